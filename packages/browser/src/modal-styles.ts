/** Styles of the step-up modal; every selector is under `.stepup-modal` so apps are not affected. */
export const MODAL_CSS = `
.stepup-modal{--su-accent:#2f54eb;--su-text:#1d2433;--su-muted:#5b6478;--su-border:#d6dae3;--su-danger:#b42318;
border:0;border-radius:14px;padding:0;width:min(26rem,calc(100vw - 2rem));color:var(--su-text);background:#fff;
box-shadow:0 24px 64px rgba(16,24,40,.28);font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
.stepup-modal::backdrop{background:rgba(16,24,40,.55)}
.stepup-modal *{box-sizing:border-box}
.stepup-modal .su-body{padding:1.5rem}
.stepup-modal h2{margin:0 0 .25rem;font-size:1.25rem;line-height:1.3}
.stepup-modal p{margin:0 0 1rem;color:var(--su-muted)}
.stepup-modal strong{color:var(--su-text)}
.stepup-modal label{display:block;font-weight:600;margin:0 0 .375rem}
.stepup-modal input{display:block;width:100%;min-height:2.75rem;padding:.5rem .75rem;font:inherit;color:inherit;
border:1px solid #8a93a6;border-radius:8px;background:#fff}
.stepup-modal input.su-code{font-size:1.375rem;letter-spacing:.3em;text-align:center;font-variant-numeric:tabular-nums}
.stepup-modal input:focus-visible,.stepup-modal button:focus-visible,.stepup-modal summary:focus-visible,
.stepup-modal a:focus-visible{outline:3px solid var(--su-accent);outline-offset:2px}
.stepup-modal .su-field{margin:0 0 1rem}
.stepup-modal .su-approval{margin:0 0 1rem;padding:.625rem .75rem;border:1px solid #d0d5dd;border-radius:8px}
.stepup-modal .su-approval p{margin:0}
.stepup-modal .su-approval-label{font-size:.8125rem;color:#475467}
.stepup-modal .su-approval-text{overflow-wrap:anywhere}
.stepup-modal button{display:flex;width:100%;align-items:center;justify-content:center;min-height:2.75rem;
padding:.5rem 1rem;font:inherit;font-weight:600;border-radius:8px;border:1px solid transparent;cursor:pointer}
.stepup-modal button:disabled{opacity:.6;cursor:progress}
.stepup-modal .su-primary{background:var(--su-accent);color:#fff}
.stepup-modal .su-secondary{background:#fff;color:var(--su-text);border-color:var(--su-border)}
.stepup-modal .su-link{background:none;border:0;color:var(--su-accent);text-decoration:underline;width:auto;
margin:1rem auto 0;min-height:2.25rem}
.stepup-modal .su-divider{display:flex;align-items:center;gap:.75rem;margin:1rem 0;color:var(--su-muted);font-size:.875rem}
.stepup-modal .su-divider::before,.stepup-modal .su-divider::after{content:"";flex:1;border-top:1px solid var(--su-border)}
.stepup-modal details{margin-top:1rem;border-top:1px solid var(--su-border);padding-top:.75rem}
.stepup-modal summary{cursor:pointer;color:var(--su-accent);font-weight:600}
.stepup-modal details form{margin-top:.75rem}
.stepup-modal .su-error{margin:0 0 1rem;padding:.625rem .75rem;border-radius:8px;background:#fef3f2;
border:1px solid #fecdca;color:var(--su-danger)}
.stepup-modal .su-error:empty{display:none}
.stepup-modal [hidden]{display:none!important}
`;
