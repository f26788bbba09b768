import { themeCss } from "@stepup/browser/tokens";

/**
 * The pages' only stylesheet, inlined into one nonce'd <style> (the CSP allows nothing else).
 * Colours, radii and type come from the tokens the step-up modal uses too (@stepup/browser/tokens),
 * light and dark; the pairs are chosen for WCAG AA in both schemes.
 */
export const PAGE_CSS = `
${themeCss(":root")}
*,*::before,*::after{box-sizing:border-box}
html{-webkit-text-size-adjust:100%;text-size-adjust:100%}
body{margin:0;min-height:100vh;display:flex;flex-direction:column;align-items:center;justify-content:center;
padding:2.5rem 1rem;background:var(--bg);color:var(--text);
font:var(--text-body)/1.5 var(--font-sans);
-webkit-font-smoothing:antialiased}
.shell{width:100%;max-width:27rem}
.shell.wide{max-width:42rem}
.brand{margin:0 0 1rem;text-align:center;font-size:.875rem;font-weight:600;color:var(--muted);letter-spacing:.01em}
.card{background:var(--card);border:1px solid var(--border);border-radius:var(--radius-card);box-shadow:var(--shadow);
padding:2rem 1.75rem}
@media (min-width:30rem){.card{padding:2.25rem 2.5rem}}
.card-head{text-align:center;margin-bottom:1.5rem}
.icon-badge{width:3rem;height:3rem;margin:0 auto 1rem;border-radius:50%;display:grid;place-items:center;
background:var(--accent-soft);color:var(--accent)}
.icon-badge svg{width:1.5rem;height:1.5rem}
.icon-badge.ok{background:var(--ok-soft);color:var(--ok)}
h1{margin:0 0 .5rem;font-size:var(--text-title);line-height:1.25;letter-spacing:-.015em}
h2{margin:0 0 .75rem;font-size:1.125rem;line-height:1.3}
h3{margin:0;font-size:1rem;line-height:1.4}
p{margin:0 0 1rem}
.lead{margin:0;color:var(--muted)}
.lead strong{color:var(--text);font-weight:600}
a{color:var(--accent);text-underline-offset:.15em}
a:hover{text-decoration-thickness:2px}
:focus-visible{outline:3px solid var(--focus);outline-offset:2px}
.field{margin:0 0 1.25rem}
label,.label{display:block;margin:0 0 .375rem;font-size:var(--text-label);font-weight:600}
.optional{font-weight:400;color:var(--muted)}
.hint{margin:.5rem 0 0;font-size:var(--text-small);color:var(--muted)}
button,input{font:inherit;color:inherit}
.input{display:block;width:100%;min-height:var(--control-height);padding:.5rem .75rem;border:1px solid var(--field-border);
border-radius:var(--radius-control);background:var(--field);color:var(--text);transition:border-color .15s ease,box-shadow .15s ease}
.input::placeholder{color:var(--muted);opacity:1}
.input:focus-visible{outline:3px solid var(--focus);outline-offset:1px}
.input[aria-invalid=true]{border-color:var(--danger)}
.code-input{padding:.625rem .5rem .625rem calc(.5rem + .5em);text-align:center;letter-spacing:.5em;
font:600 var(--text-code)/1.2 var(--font-mono);
font-variant-numeric:tabular-nums}
.code-input::placeholder{letter-spacing:.5em;opacity:.45}
.button{display:inline-flex;align-items:center;justify-content:center;gap:.5rem;min-height:var(--control-height);
padding:.5rem 1.125rem;border:1px solid transparent;border-radius:var(--radius-control);font-weight:600;line-height:1.2;
text-decoration:none;cursor:pointer;transition:background-color .15s ease,border-color .15s ease}
.button-primary{background:var(--accent);color:var(--on-accent)}
.button-primary:hover{background:var(--accent-hover)}
.button-secondary{background:var(--card);color:var(--text);border-color:var(--border)}
.button-secondary:hover{background:var(--subtle);border-color:var(--field-border)}
.button-danger{background:var(--card);color:var(--danger);border-color:var(--border)}
.button-danger:hover{background:var(--danger-soft);border-color:var(--danger-border)}
.button-small{min-height:2.25rem;padding:.375rem .75rem;font-size:.875rem}
.button-block{display:flex;width:100%}
.button:disabled,.input:disabled{opacity:.6;cursor:not-allowed}
.link-button{display:inline-block;padding:.5rem .25rem;color:var(--muted);font-size:.9375rem;font-weight:500}
.link-button:hover{color:var(--text)}
.actions{display:flex;flex-wrap:wrap;align-items:center;justify-content:center;gap:.5rem 1rem;margin-top:1.25rem}
.alert{display:flex;gap:.625rem;align-items:flex-start;margin:0 0 1.25rem;padding:.75rem .875rem;
border:1px solid;border-radius:10px;font-size:.9375rem}
.alert svg{flex:none;width:1.25rem;height:1.25rem;margin-top:.0625rem}
.alert p{margin:0}
.alert-error{background:var(--danger-soft);border-color:var(--danger-border);color:var(--danger)}
.alert-info{background:var(--info-soft);border-color:var(--info-border);color:var(--info)}
.alert .detail{font-weight:400}
.approval{border:1px solid var(--border);border-radius:.5rem;padding:.75rem 1rem;margin:0 0 1rem}
.approval p{margin:0}
.approval-label{font-size:.8125rem;color:var(--muted)}
.approval-text{font-size:1.0625rem;overflow-wrap:anywhere}
.alert strong{font-weight:600}
fieldset{margin:0 0 1.25rem;padding:0;border:0;min-width:0}
legend{padding:0;margin:0 0 .5rem;font-size:.9375rem;font-weight:600}
.choice{display:flex;align-items:center;gap:.625rem;margin:0 0 .5rem;padding:.625rem .75rem;
border:1px solid var(--border);border-radius:8px;font-weight:500;cursor:pointer}
.choice:has(input:checked){border-color:var(--accent);background:var(--accent-soft)}
.choice input{width:1.125rem;height:1.125rem;margin:0;accent-color:var(--accent)}
.pill{display:inline-block;padding:.0625rem .5rem;border-radius:999px;font-size:.75rem;font-weight:600;
line-height:1.5;background:var(--accent-soft);color:var(--accent);vertical-align:.0625rem}
.choice .pill{background:var(--card)}
.remember{display:flex;align-items:center;gap:.5rem;margin:0 0 1rem;font-size:var(--text-small);cursor:pointer}
.remember input{width:1rem;height:1rem;margin:0;accent-color:var(--accent)}
.pill-ok{background:var(--ok-soft);color:var(--ok)}
.divider{display:flex;align-items:center;gap:.75rem;margin:1.5rem 0 1rem;color:var(--muted);font-size:.875rem}
.divider::before,.divider::after{content:"";flex:1;border-top:1px solid var(--border)}
.other-factors{list-style:none;margin:0;padding:0}
.other-factors li{margin:0 0 .5rem;padding:.625rem .875rem;border:1px dashed var(--field-border);border-radius:8px;
color:var(--muted);font-size:.875rem}
.other-factors .name{display:block;color:var(--text);font-size:.9375rem;font-weight:500}
.section{margin-top:2rem;padding-top:1.75rem;border-top:1px solid var(--border)}
.section-head{display:flex;flex-wrap:wrap;justify-content:space-between;align-items:center;gap:.75rem;margin-bottom:1rem}
.section-head h2{margin:0}
[hidden]{display:none!important}
.add-methods{display:flex;flex-wrap:wrap;gap:.5rem;align-items:flex-start;justify-content:center}
.add-methods form{margin:0}
.passkey-status:empty{display:none}
.divider-or{display:flex;align-items:center;gap:.75rem;margin:1.25rem 0;color:var(--muted);font-size:.875rem}
.divider-or::before,.divider-or::after{content:"";flex:1;border-top:1px solid var(--border)}
.factor-list{list-style:none;margin:0;padding:0}
.factor{padding:1rem 1.125rem;border:1px solid var(--border);border-radius:12px;margin:0 0 .75rem}
.factor-title{display:flex;flex-wrap:wrap;align-items:center;gap:.5rem}
.meta{display:flex;flex-wrap:wrap;gap:.25rem 1.25rem;margin:.375rem 0 0;font-size:.875rem;color:var(--muted)}
.meta div{display:flex;gap:.3rem}
.meta dt::after{content:":"}
.meta dd{margin:0;color:var(--text)}
.activity{list-style:none;margin:0;padding:0}
.activity li{padding:.625rem 0;border-top:1px solid var(--border)}
.activity li:first-child{border-top:0}
.activity .meta{margin:.125rem 0 0}
.factor-actions{display:flex;flex-wrap:wrap;align-items:flex-start;gap:.5rem;margin-top:.875rem}
.factor-actions form{margin:0}
details[open]{flex-basis:100%}
summary{display:inline-flex;list-style:none}
summary::-webkit-details-marker{display:none}
details[open] summary{background:var(--subtle)}
.rename{display:flex;gap:.5rem;margin-top:.625rem}
.rename .input{min-height:2.25rem;padding:.375rem .625rem;font-size:.9375rem}
.empty{padding:1.25rem;border:1px dashed var(--border);border-radius:12px;text-align:center;color:var(--muted)}
.steps{margin:0 0 1.25rem;padding-left:1.25rem}
.steps li{margin:0 0 .375rem;padding-left:.25rem}
.enroll{padding:1.25rem;border:1px solid var(--accent);border-radius:12px;background:var(--subtle);margin-bottom:1.5rem}
.enroll-grid{display:grid;gap:1.25rem;align-items:start;margin-bottom:1.25rem}
.enroll .steps{margin-bottom:.75rem}
.enroll .hint{margin:0}
.resubmit-note{margin:1rem 0 0;text-align:center;font-size:.875rem;color:var(--muted)}
@media (min-width:36rem){.enroll-grid{grid-template-columns:auto 1fr}}
.qr{display:block;width:184px;height:184px;padding:8px;background:#fff;border:1px solid var(--border);
border-radius:10px;image-rendering:pixelated}
.secret{display:inline-block;margin:.25rem 0 .5rem;padding:.375rem .625rem;border:1px solid var(--border);
border-radius:6px;background:var(--card);font:600 1rem/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;
letter-spacing:.04em;word-break:break-all;user-select:all}
.recovery-codes{padding:1.25rem;border:1px solid var(--accent);border-radius:var(--radius-box);background:var(--subtle);margin-bottom:1.5rem}
.recovery-codes h2{margin-bottom:.5rem}
.codes{display:grid;grid-template-columns:repeat(auto-fill,minmax(12rem,1fr));gap:.375rem 1.5rem;margin:0 0 1rem;
padding:.875rem 1rem .875rem 2.5rem;border:1px solid var(--border);border-radius:var(--radius-control);background:var(--card)}
.codes li::marker{color:var(--muted);font-size:var(--text-small)}
.codes code{font:600 1rem/1.5 var(--font-mono);letter-spacing:.04em;user-select:all}
.code-actions{display:flex;flex-wrap:wrap;align-items:center;gap:.5rem;margin:0 0 1rem}
.code-actions .hint{margin:0}
details.recovery{margin-top:1.25rem}
details.recovery summary{cursor:pointer;color:var(--accent);font-weight:600;padding:.25rem 0;background:none}
details.recovery form{margin-top:.75rem}
.sr-only{position:absolute;width:1px;height:1px;padding:0;margin:-1px;overflow:hidden;clip:rect(0 0 0 0);
white-space:nowrap;border:0}
@media (prefers-reduced-motion:reduce){*,*::before,*::after{transition:none!important;animation:none!important;
scroll-behavior:auto!important}}
`;
