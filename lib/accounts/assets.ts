/** The account page's stylesheet and script, served as files so the CSP allows no inline code. */

export const STYLE = `:root{color-scheme:light dark;--fg:#1d1d1f;--bg:#fff;--mute:#6e6e73;--line:#d2d2d7;--accent:#0a66c2}
@media (prefers-color-scheme:dark){:root{--fg:#f5f5f7;--bg:#1c1c1e;--mute:#a1a1a6;--line:#3a3a3c;--accent:#4aa3ff}}
*{box-sizing:border-box}body{margin:0;font:16px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:var(--fg);background:var(--bg)}
main{max-width:46rem;margin:0 auto;padding:1rem}h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid var(--line);padding-bottom:.3rem}
.row{display:flex;flex-wrap:wrap;gap:.5rem;align-items:center;padding:.6rem 0;border-bottom:1px solid var(--line)}
.row .name{flex:1 1 12rem;font-weight:600}.url{font-family:ui-monospace,monospace;font-size:.85rem;word-break:break-all;color:var(--mute);flex:1 1 100%}
form.inline{display:inline-flex;gap:.4rem;flex-wrap:wrap;margin:0}input[type=text],input[type=password]{font:inherit;padding:.35rem .5rem;border:1px solid var(--line);border-radius:.4rem;background:var(--bg);color:var(--fg);min-width:0}
button{font:inherit;padding:.35rem .8rem;border-radius:.4rem;border:1px solid var(--accent);background:var(--accent);color:#fff;cursor:pointer}
button.quiet{background:transparent;color:var(--accent)}button.danger{border-color:#c62828;background:transparent;color:#c62828}
.note{background:color-mix(in srgb,var(--accent) 12%,transparent);padding:.6rem .8rem;border-radius:.4rem}.error{background:color-mix(in srgb,#c62828 15%,transparent);padding:.6rem .8rem;border-radius:.4rem}
.shares{flex:1 1 100%;display:flex;flex-direction:column;gap:.4rem}.share{display:flex;flex-wrap:wrap;gap:.5rem;align-items:center}
select{font:inherit;padding:.35rem .5rem;border:1px solid var(--line);border-radius:.4rem;background:var(--bg);color:var(--fg)}
.secret{font-family:ui-monospace,monospace;font-size:1.05rem;word-break:break-all}.mute{color:var(--mute)}label{display:block;margin:.5rem 0 .2rem}
`;

/** Copy buttons: the only script, and it needs nothing but the clipboard. */
export const SCRIPT = `document.addEventListener("click", (e) => {
  const b = e.target.closest("button[data-copy]");
  if (!b) return;
  e.preventDefault();
  navigator.clipboard.writeText(b.dataset.copy).then(() => { b.textContent = "Copied"; setTimeout(() => { b.textContent = "Copy"; }, 1500); });
});
`;
