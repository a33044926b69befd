/** The one stylesheet, served as /assets/ui.css (the page policy allows no inline style). */
export const STYLESHEET = `
:root {
  color-scheme: light dark;
  --bg: #f6f7f9; --fg: #1b1f24; --muted: #59636e; --card: #fff; --line: #d5dae0;
  --accent: #0b5cad; --accent-fg: #fff; --focus: #0b5cad; --code: #eef1f4;
  --ok-bg: #dff3e4; --ok-fg: #105b24; --bad-bg: #fbe1e1; --bad-fg: #8a1616;
  --warn-bg: #fdf0cf; --warn-fg: #6b4a00; --idle-bg: #e6e9ed; --idle-fg: #3d4650;
  font: 16px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #111418; --fg: #e4e8ec; --muted: #9aa5b1; --card: #1a1f25; --line: #313943;
    --accent: #5aa2f0; --accent-fg: #0b1320; --focus: #8cc2ff; --code: #222a33;
    --ok-bg: #153c22; --ok-fg: #9be0ad; --bad-bg: #4a1a1a; --bad-fg: #ffb3b3;
    --warn-bg: #46390f; --warn-fg: #f5d77e; --idle-bg: #2a3139; --idle-fg: #c2ccd6;
  }
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg); }
a { color: var(--accent); }
:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
main:focus { outline: none; }
.sr-only { position: absolute; width: 1px; height: 1px; margin: -1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
.pending { color: var(--muted); margin: 1rem 0; }
.skip { position: absolute; left: -999px; top: 0; background: var(--card); padding: .5rem 1rem; z-index: 2; }
.skip:focus { left: .5rem; }
.top { display: flex; flex-wrap: wrap; align-items: center; gap: .25rem 1.5rem; padding: .6rem 1rem;
  background: var(--card); border-bottom: 1px solid var(--line); }
.brand { font-weight: 700; }
.top nav { display: flex; flex-wrap: wrap; gap: .25rem 1rem; }
.top nav a { text-decoration: none; padding: .15rem 0; }
.top nav a[aria-current="page"] { font-weight: 600; text-decoration: underline; text-underline-offset: .3em; }
main { max-width: 76rem; margin: 0 auto; padding: 1rem; }
h1 { font-size: 1.5rem; margin: .5rem 0 1rem; }
h2 { font-size: 1.2rem; margin: 1.5rem 0 .5rem; }
.foot { max-width: 76rem; margin: 2rem auto 1rem; padding: 0 1rem; color: var(--muted); font-size: .85rem; }
.panel { background: var(--card); border: 1px solid var(--line); border-radius: .5rem; padding: 1rem; }
form.probe { display: grid; grid-template-columns: minmax(12rem, 2fr) minmax(10rem, 1.2fr) auto; gap: .75rem 1rem; align-items: end; }
form.filter { display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: end; margin-bottom: 1rem; }
.field { display: flex; flex-direction: column; gap: .25rem; min-width: 0; }
label { font-weight: 600; font-size: .9rem; }
.hint { color: var(--muted); font-size: .8rem; }
input, select, button { font: inherit; color: inherit; }
input, select { width: 100%; padding: .5rem .6rem; border: 1px solid var(--line); border-radius: .35rem; background: var(--bg); }
button, .button { padding: .55rem 1.4rem; border: 1px solid var(--accent); border-radius: .35rem; background: var(--accent);
  color: var(--accent-fg); font-weight: 600; cursor: pointer; text-decoration: none; display: inline-block; }
button[disabled] { opacity: .65; cursor: progress; }
form.probe button { margin-bottom: 1.45rem; }
.outcome { display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: center; padding: .75rem 1rem; border-radius: .5rem; margin: 1rem 0; }
.outcome.ok { background: var(--ok-bg); color: var(--ok-fg); }
.outcome.fail { background: var(--bad-bg); color: var(--bad-fg); }
.outcome strong { font-size: 1.1rem; }
.outcome .reason { flex-basis: 100%; overflow-wrap: anywhere; }
.links { display: flex; flex-wrap: wrap; gap: .25rem 1rem; margin: .5rem 0; }
dl.info { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; margin: 0; }
dl.info dt { color: var(--muted); }
dl.info dd { margin: 0; overflow-wrap: anywhere; }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; background: var(--card); border: 1px solid var(--line); }
th, td { text-align: left; padding: .4rem .6rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-size: .85rem; color: var(--muted); white-space: nowrap; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td { overflow-wrap: anywhere; }
.badge { display: inline-block; padding: .05rem .5rem; border-radius: 1rem; font-size: .85rem; font-weight: 600; white-space: nowrap; }
.badge-up, .badge-success { background: var(--ok-bg); color: var(--ok-fg); }
.badge-down, .badge-failure { background: var(--bad-bg); color: var(--bad-fg); }
.badge-partial, .badge-unknown { background: var(--warn-bg); color: var(--warn-fg); }
.badge-ignored { background: var(--idle-bg); color: var(--idle-fg); }
.badge-up::before, .badge-success::before { content: "\\25CF  "; }
.badge-down::before, .badge-failure::before { content: "\\25A0  "; }
.badge-partial::before, .badge-unknown::before { content: "\\25B2  "; }
.detail { color: var(--muted); font-size: .85rem; }
.empty { color: var(--muted); font-style: italic; }
pre { background: var(--code); padding: .75rem; border-radius: .35rem; overflow-x: auto; font-size: .85rem; line-height: 1.35; }
pre.metrics { max-height: 70vh; }
pre.wrap { white-space: pre-wrap; overflow-wrap: anywhere; }
details { margin: 1.5rem 0; }
summary { cursor: pointer; font-weight: 600; padding: .25rem 0; }
code { overflow-wrap: anywhere; }
.field.check { flex-direction: row; align-items: center; gap: .4rem; padding-bottom: .55rem; }
.field.check input { width: auto; margin: 0; }
.toolbar { display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: center; margin-bottom: .75rem; }
button.secondary { background: var(--card); color: var(--accent); padding: .4rem 1rem; }
.notice { background: var(--warn-bg); color: var(--warn-fg); padding: .5rem .75rem; border-radius: .35rem; }
.detail.block { display: block; }
.expired { color: var(--bad-fg); font-weight: 600; }
.row-links { display: flex; flex-wrap: wrap; gap: .1rem .75rem; }
table.fleet { font-size: .9rem; }
table.fleet td { overflow-wrap: normal; padding: .4rem .45rem; }
table.fleet td:first-child { min-width: 9rem; overflow-wrap: anywhere; }
table.fleet td .detail { overflow-wrap: anywhere; }
table.fleet code.reason { overflow-wrap: normal; white-space: nowrap; }
table.fleet th { padding: 0; }
table.fleet th:last-child { padding: .4rem .6rem; }
/* Sort buttons fill their header cell and look like headers; the focus ring shows where the keyboard is. */
button.sort { display: flex; gap: .3rem; width: 100%; padding: .4rem .45rem; border: 0; border-radius: 0; background: none;
  color: inherit; font: inherit; font-weight: 600; text-align: left; white-space: normal; }
button.sort:hover { text-decoration: underline; }
th[aria-sort="ascending"] button.sort, th[aria-sort="descending"] button.sort { color: var(--fg); }
.arrow { min-width: .8em; }
tr.failing td:first-child { box-shadow: inset 4px 0 0 var(--bad-fg); }
@media (max-width: 40rem) {
  form.probe { grid-template-columns: 1fr; }
  form.probe button { margin-bottom: 0; width: 100%; }
  table.cards, table.cards tbody, table.cards tr, table.cards td { display: block; width: 100%; }
  table.cards { border: 0; background: none; }
  table.cards thead { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
  table.cards tr { background: var(--card); border: 1px solid var(--line); border-radius: .5rem; margin-bottom: .6rem; padding: .3rem .2rem; }
  /* The label is positioned, not a grid column, so a cell's content (badge, reason, link) flows as one. */
  table.cards td { position: relative; border: 0; padding: .2rem .6rem .2rem 8.6rem; min-height: 1.85rem; text-align: left; }
  table.cards td::before { content: attr(data-label); position: absolute; left: .6rem; width: 7.6rem; color: var(--muted);
    font-size: .85rem; line-height: 1.45rem; overflow-wrap: anywhere; }
  table.cards td:empty { display: none; }
  /* The fleet table keeps its header row at this width, as a row of sort buttons above the cards. */
  table.fleet thead { position: static; width: auto; height: auto; overflow: visible; clip: auto; display: block; }
  table.fleet thead tr { display: flex; flex-wrap: wrap; gap: .3rem; margin-bottom: .6rem; padding: 0; border: 0; background: none; }
  table.fleet thead th { display: block; border: 0; padding: 0; }
  table.fleet thead th:last-child { display: none; }
  button.sort { width: auto; padding: .25rem .6rem; border: 1px solid var(--line); border-radius: 1rem; background: var(--card); font-size: .85rem;
    white-space: nowrap; }
  tr.failing td:first-child { box-shadow: none; }
  table.cards tr.failing { border-left: 4px solid var(--bad-fg); }
  table.cards td.num { text-align: left; }
}
`;
