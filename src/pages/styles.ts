/**
 * The pages' one stylesheet, inlined (one request fewer) and allowed by the
 * Content-Security-Policy through its hash. Light and dark palettes with
 * WCAG AA contrast; readable on a phone (fluid width, wrapping digests).
 */
export const STYLES = `
:root{color-scheme:light dark;--bg:#fff;--fg:#1b1f24;--muted:#57606a;--line:#d0d7de;--card:#f6f8fa;--link:#0550ae;--ok:#116329;--bad:#a40e26;--warn:#7d4e00;--bar:#54aeff;--mark:#cf222e}
@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--fg:#e6edf3;--muted:#9da7b3;--line:#30363d;--card:#161b22;--link:#79c0ff;--ok:#56d364;--bad:#ff7b72;--warn:#e3b341;--bar:#1f6feb;--mark:#ff7b72}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:16px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif}
header,main,footer{max-width:62rem;margin:0 auto;padding:0 1rem}
header{display:flex;flex-wrap:wrap;gap:.5rem 1.5rem;align-items:baseline;padding-top:1rem;padding-bottom:.5rem;border-bottom:1px solid var(--line)}
header .brand{font-weight:700;color:var(--fg);text-decoration:none}
nav ul{display:flex;flex-wrap:wrap;gap:1rem;list-style:none;margin:0;padding:0}
nav a[aria-current]{font-weight:700;text-decoration:none;color:var(--fg)}
a{color:var(--link)}
h1{font-size:1.6rem;margin:1rem 0 .5rem;overflow-wrap:anywhere}
h1 code{font-size:1.25rem}
h2{font-size:1.2rem;margin:1.75rem 0 .5rem}
h3{font-size:1.05rem;margin:1rem 0 .25rem}
code,.digest,pre{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.875rem}
.digest,code{overflow-wrap:anywhere;word-break:break-all}
pre{background:var(--card);border:1px solid var(--line);padding:.75rem;overflow-x:auto;white-space:pre-wrap;word-break:break-all}
dl{display:grid;grid-template-columns:minmax(8rem,max-content) 1fr;gap:.25rem 1rem;margin:.5rem 0}
dt{color:var(--muted)}dd{margin:0;min-width:0;overflow-wrap:anywhere}
@media (max-width:36rem){dl{grid-template-columns:1fr}dd{margin-bottom:.5rem}}
.card{background:var(--card);border:1px solid var(--line);border-radius:6px;padding:.75rem 1rem;margin:.75rem 0}
.table{overflow-x:auto}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid var(--line);vertical-align:top}
th{color:var(--muted);font-weight:600}
.ok{color:var(--ok)}.bad{color:var(--bad)}.warn{color:var(--warn)}.muted{color:var(--muted)}
.badge{display:inline-block;border:1px solid currentColor;border-radius:1rem;padding:0 .5rem;font-size:.85rem}
.warnings{border-color:var(--warn)}
form{display:flex;flex-wrap:wrap;gap:.5rem;align-items:center;margin:.5rem 0}
input{font:inherit;padding:.3rem .5rem;border:1px solid var(--muted);border-radius:4px;background:var(--bg);color:var(--fg);min-width:0;flex:1 1 14rem}
button{font:inherit;padding:.3rem .9rem;border:1px solid var(--muted);border-radius:4px;background:var(--card);color:var(--fg);cursor:pointer}
svg.timeline{width:100%;height:auto;max-width:36rem}
svg.timeline text{fill:var(--fg);font-size:16px}
svg.timeline .axis{stroke:var(--line)}
svg.timeline .bar{fill:var(--bar)}
svg.timeline .resign{fill:var(--mark)}
#verify-result li{margin:.15rem 0}
footer{color:var(--muted);font-size:.875rem;padding-top:2rem;padding-bottom:2rem}
`;
