/** The report pages' CSS, inlined into every page (system fonts only: nothing is fetched). */
export const STYLES = `
:root { --ok:#1a7f37; --bad:#cf222e; --warn:#9a6700; --muted:#57606a; --line:#d0d7de; --bg:#f6f8fa; }
* { box-sizing: border-box; }
body { margin:0; font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif; color:#1f2328; background:#fff; }
main { max-width: 1080px; margin: 0 auto; padding: 0 20px 40px; }
a { color:#0969da; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 16px; margin: 28px 0 10px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
.banner { padding: 18px 20px; color:#fff; margin-bottom: 18px; }
.banner.succeeded { background: var(--ok); } .banner.failed { background: var(--bad); }
.banner.cancelled { background: var(--muted); } .banner.warned { background: var(--warn); }
.banner code { background: rgba(255,255,255,.2); color: #fff; }
.banner .inner { max-width: 1040px; margin: 0 auto; }
.banner .verdict { font-size: 12px; font-weight: 700; letter-spacing: .08em; text-transform: uppercase; opacity: .9; }
.banner p { margin: 6px 0 0; font-size: 15px; max-width: 900px; }
.figures { display:grid; grid-template-columns: repeat(auto-fill, minmax(160px, 1fr)); gap: 10px; }
.figure { border:1px solid var(--line); border-radius:6px; padding:10px 12px; background: var(--bg); }
.figure .label { font-size:12px; color: var(--muted); }
.figure .value { font-size:18px; font-weight:600; overflow-wrap:anywhere; }
.figure .sub { font-size:12px; color: var(--muted); overflow-wrap:anywhere; }
.figure.bad { border-color: var(--bad); background:#ffebe9; } .figure.warn { border-color: var(--warn); background:#fff8c5; }
.attention { list-style:none; padding:0; margin:0; }
.attention > li { border-left: 4px solid var(--warn); background:#fff8c5; padding:8px 12px; margin-bottom:8px; border-radius: 0 6px 6px 0; }
.attention > li.failed { border-color: var(--bad); background:#ffebe9; }
.attention .what { font-weight:600; }
.allgood { color: var(--ok); font-weight:600; }
table { border-collapse: collapse; width:100%; font-size: 13px; }
th, td { text-align:left; padding:5px 8px; border-bottom:1px solid var(--line); vertical-align: top; }
th { background: var(--bg); font-weight:600; }
td.num, th.num { text-align:right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.failed td { background:#ffebe9; } tr.warned td { background:#fff8c5; }
.pill { display:inline-block; padding:0 8px; border-radius: 10px; font-size:12px; font-weight:600; color:#fff; white-space:nowrap; }
.pill.passed, .pill.succeeded { background: var(--ok); } .pill.failed { background: var(--bad); }
.pill.warned { background: var(--warn); } .pill.skipped, .pill.not-run, .pill.cancelled { background: var(--muted); }
details { margin-top: 4px; } summary { cursor: pointer; color: var(--muted); font-size: 12px; }
.charts { display:grid; grid-template-columns: repeat(auto-fill, minmax(240px, 1fr)); gap: 12px; }
.chart { border:1px solid var(--line); border-radius:6px; padding:8px 10px; }
.chart h3 { font-size: 13px; margin: 0 0 2px; } .chart .latest { font-size:12px; color: var(--muted); }
.chart svg { width:100%; height:auto; display:block; }
.bar { height: 10px; background: #0969da; border-radius: 2px; min-width: 2px; }
.bar.failed { background: var(--bad); }
.muted { color: var(--muted); } code { font-size: 12px; background: var(--bg); padding: 1px 4px; border-radius: 4px; }
dl.facts { display:grid; grid-template-columns: max-content 1fr; gap: 4px 16px; margin:0; }
dl.facts dt { color: var(--muted); } dl.facts dd { margin:0; overflow-wrap:anywhere; }
footer { margin-top: 30px; color: var(--muted); font-size: 12px; }
`;
