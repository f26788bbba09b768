import { themeCss } from "./tokens.js";

/**
 * Styles of the step-up modal: the pages' tokens (colours, radii, type, dark mode through
 * `prefers-color-scheme`) as `--su-*` variables, and every selector under `.stepup-modal`, so the
 * app page the dialog opens over is not affected.
 */
export const MODAL_CSS = `
${themeCss(".stepup-modal", "su-")}
.stepup-modal{border:1px solid var(--su-border);border-radius:var(--su-radius-card);padding:0;
width:min(27rem,calc(100vw - 2rem));color:var(--su-text);background:var(--su-card);box-shadow:var(--su-shadow);
font:var(--su-text-body)/1.5 var(--su-font-sans);-webkit-font-smoothing:antialiased}
.stepup-modal::backdrop{background:var(--su-backdrop)}
.stepup-modal *{box-sizing:border-box}
.stepup-modal .su-body{padding:2rem 1.75rem 1.5rem}
.stepup-modal .su-head{text-align:center;margin-bottom:1.5rem}
.stepup-modal .su-badge{width:3rem;height:3rem;margin:0 auto 1rem;border-radius:50%;display:grid;place-items:center;
background:var(--su-accent-soft);color:var(--su-accent)}
.stepup-modal .su-badge svg{width:1.5rem;height:1.5rem}
.stepup-modal h2{margin:0 0 .5rem;font-size:var(--su-text-title);line-height:1.25;letter-spacing:-.015em;color:var(--su-text)}
.stepup-modal p{margin:0 0 1rem}
.stepup-modal .su-lead{margin:0;color:var(--su-muted)}
.stepup-modal strong{color:var(--su-text);font-weight:600}
.stepup-modal label{display:block;font-size:var(--su-text-label);font-weight:600;margin:0 0 .375rem}
.stepup-modal input{display:block;width:100%;min-height:var(--su-control-height);padding:.5rem .75rem;font:inherit;
color:var(--su-text);border:1px solid var(--su-field-border);border-radius:var(--su-radius-control);background:var(--su-field)}
.stepup-modal input[aria-invalid=true]{border-color:var(--su-danger)}
.stepup-modal input.su-code{padding:.625rem .5rem .625rem calc(.5rem + .5em);text-align:center;letter-spacing:.5em;
font:600 var(--su-text-code)/1.2 var(--su-font-mono);font-variant-numeric:tabular-nums}
.stepup-modal input.su-code::placeholder{letter-spacing:.5em;color:var(--su-muted);opacity:.45}
.stepup-modal input:focus-visible{outline:3px solid var(--su-focus);outline-offset:1px}
.stepup-modal button:focus-visible,.stepup-modal summary:focus-visible,.stepup-modal a:focus-visible{
outline:3px solid var(--su-focus);outline-offset:2px}
.stepup-modal .su-field{margin:0 0 1.25rem}
.stepup-modal .su-remember{display:flex;align-items:center;gap:.5rem;margin:1.25rem 0 0;font-size:var(--su-text-small);
font-weight:500;cursor:pointer}
.stepup-modal .su-remember input{width:1rem;height:1rem;min-height:0;margin:0;padding:0;flex:none;accent-color:var(--su-accent)}
.stepup-modal .su-remember input:focus-visible{outline-offset:2px}
.stepup-modal .su-hint{margin:.375rem 0 0;font-size:var(--su-text-small);color:var(--su-muted)}
.stepup-modal .su-note{margin:0 0 1rem;color:var(--su-muted);overflow-wrap:anywhere}
.stepup-modal .su-send{display:grid;gap:.75rem}
.stepup-modal .su-method{margin:0;font-size:var(--su-text-label);font-weight:600;overflow-wrap:anywhere}
.stepup-modal .su-send button{overflow-wrap:anywhere}
.stepup-modal .su-approval{margin:0 0 1rem;padding:.75rem 1rem;border:1px solid var(--su-border);border-radius:var(--su-radius-control)}
.stepup-modal .su-approval p{margin:0}
.stepup-modal .su-approval-label{font-size:.8125rem;color:var(--su-muted)}
.stepup-modal .su-approval-text{font-size:1.0625rem;overflow-wrap:anywhere}
.stepup-modal button{display:flex;width:100%;align-items:center;justify-content:center;min-height:var(--su-control-height);
padding:.5rem 1.125rem;font:inherit;font-weight:600;line-height:1.2;border-radius:var(--su-radius-control);
border:1px solid transparent;cursor:pointer}
.stepup-modal button:disabled{opacity:.6;cursor:progress}
.stepup-modal .su-primary{background:var(--su-accent);color:var(--su-on-accent)}
.stepup-modal .su-primary:hover:not(:disabled){background:var(--su-accent-hover)}
.stepup-modal .su-secondary{background:var(--su-card);color:var(--su-text);border-color:var(--su-border)}
.stepup-modal .su-secondary:hover:not(:disabled){background:var(--su-subtle);border-color:var(--su-field-border)}
.stepup-modal .su-link{background:none;border:0;color:var(--su-muted);font-weight:500;text-decoration:underline;
text-underline-offset:.15em;width:auto;margin:1rem auto 0;min-height:2.25rem}
.stepup-modal .su-link:hover{color:var(--su-text)}
.stepup-modal a{color:var(--su-accent);text-underline-offset:.15em}
.stepup-modal .su-divider{display:flex;align-items:center;gap:.75rem;margin:1.25rem 0;color:var(--su-muted);font-size:var(--su-text-small)}
.stepup-modal .su-divider::before,.stepup-modal .su-divider::after{content:"";flex:1;border-top:1px solid var(--su-border)}
.stepup-modal details{margin-top:1.25rem}
.stepup-modal summary{display:inline-flex;list-style:none;cursor:pointer;color:var(--su-accent);font-weight:600;padding:.25rem 0}
.stepup-modal summary::-webkit-details-marker{display:none}
.stepup-modal details form{margin-top:.75rem}
.stepup-modal .su-error{display:flex;margin:0 0 1.25rem;padding:.75rem .875rem;border-radius:10px;font-size:var(--su-text-label);
background:var(--su-danger-soft);border:1px solid var(--su-danger-border);color:var(--su-danger)}
.stepup-modal .su-error:empty{display:none}
.stepup-modal [hidden]{display:none!important}
.stepup-modal .su-sr-only{position:absolute;width:1px;height:1px;padding:0;margin:-1px;overflow:hidden;
clip:rect(0 0 0 0);white-space:nowrap;border:0}
@media (prefers-reduced-motion:reduce){.stepup-modal *{transition:none!important;animation:none!important}}
`;
