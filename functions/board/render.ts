import type { DueState } from '../core/order-status.js';
import { htmlText } from '../messages/escape.js';
import type { BoardModel, Card, Column, StageProgress } from './model.js';

/**
 * The board as one self-contained HTML page: inline CSS, a small inline script for the filters only (the
 * page reads fully without it), no request to any host (the content security policy forbids them).
 * Colours meet 4.5:1 against their background and every colour comes with a text label. Every string
 * from the API is escaped with htmlText.
 */
export interface RenderOptions {
  /** Adds a meta refresh, so a served board follows the cycles without JavaScript. */
  refreshSeconds?: number;
  title?: string;
}

const days = (n: number): string => `${n} ${n === 1 ? 'day' : 'days'}`;

const dueLabel = (due: DueState): string => {
  switch (due.kind) {
    case 'overdue':
      return `Overdue ${days(due.days)}`;
    case 'soon':
      return due.days === 0 ? 'Due today' : `Due in ${days(due.days)}`;
    case 'later':
      return `Due in ${days(due.days)}`;
    case 'none':
      return due.date === null ? 'No due date' : `Due ${due.date}`;
  }
};

const CSS = `
:root{color-scheme:light;--ink:#1b1b1b;--muted:#4a4a4a;--line:#c8c8c8;--bg:#f4f4f2;--card:#fff;
--red:#b3261e;--red-bg:#fdecea;--amber:#7a4f00;--amber-bg:#fff3d6;--amber-badge:#ffd27a;--purple:#5b2a86;
--blue:#0b4f8a;--blue-bg:#e8f1fb;--focus:#1a4fd6}
*{box-sizing:border-box}
body{margin:0;font:15px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--ink);background:var(--bg)}
header{padding:1rem 1.25rem .5rem}
h1{margin:0 0 .25rem;font-size:1.5rem}
.summary{margin:0;color:var(--muted)}
.summary strong{color:var(--ink)}
form{display:flex;flex-wrap:wrap;gap:1rem;align-items:end;padding:.5rem 1.25rem}
label{display:flex;flex-direction:column;font-weight:600;font-size:.85rem;gap:.2rem}
select,button{font:inherit;padding:.3rem .5rem;border:1px solid #767676;border-radius:4px;background:#fff;color:var(--ink)}
:focus-visible{outline:3px solid var(--focus);outline-offset:2px}
.board{display:flex;gap:.75rem;overflow-x:auto;padding:.5rem 1.25rem 1.5rem;align-items:flex-start}
.column{flex:1 1 0;min-width:12.5rem;max-width:20rem;background:#e9e9e6;border-radius:8px;padding:.5rem}
.column h2{font-size:1rem;margin:.25rem .25rem .5rem;display:flex;justify-content:space-between}
.count{font-weight:400;color:var(--muted)}
.cards{list-style:none;margin:0;padding:0;display:flex;flex-direction:column;gap:.5rem}
.empty{color:var(--muted);margin:.25rem}
.card{background:var(--card);border:1px solid var(--line);border-left:6px solid #767676;border-radius:6px;padding:.5rem .6rem}
.card.overdue{background:var(--red-bg);border-left-color:var(--red)}
.card.soon{background:var(--amber-bg);border-left-color:var(--amber)}
.card.risk{background:var(--blue-bg);border-left-color:var(--blue)}
.card h3{margin:0;font-size:1rem}
.card dl{display:grid;grid-template-columns:auto 1fr;gap:0 .5rem;margin:.3rem 0;font-size:.85rem}
.card dt{color:var(--muted)}
.card dd{margin:0}
.card .basis{color:var(--muted);font-size:.8rem}
.flags{list-style:none;padding:0;margin:.3rem 0;display:flex;flex-wrap:wrap;gap:.3rem}
.flag{font-size:.8rem;font-weight:700;padding:.1rem .4rem;border-radius:4px}
.flag.overdue{background:var(--red);color:#fff}
.flag.soon{background:var(--amber-badge);color:var(--ink)}
.flag.stalled{background:var(--purple);color:#fff}
.flag.risk{background:var(--blue);color:#fff}
.stages{list-style:none;padding:0;margin:.3rem 0 0;font-size:.85rem}
.stages li{display:flex;flex-wrap:wrap;justify-content:space-between;gap:0 .5rem;border-top:1px dotted var(--line);padding:.1rem 0}
.stages .stalled{flex-basis:100%;color:var(--purple);font-weight:700;font-size:.8rem}
.done{color:#1e6b34}
[hidden]{display:none !important}
`;

/** Filters by supplier and season, kept in the URL's hash (#supplier=...&season=...) to share a view. */
const SCRIPT = `
(function(){
  var form=document.getElementById('filters');form.hidden=false;
  var sel={supplier:document.getElementById('f-supplier'),season:document.getElementById('f-season')};
  function read(){var p=new URLSearchParams(location.hash.slice(1));return{supplier:p.get('supplier')||'',season:p.get('season')||''};}
  function apply(){
    var f=read();sel.supplier.value=f.supplier;sel.season.value=f.season;
    document.querySelectorAll('.column').forEach(function(col){
      var shown=0;
      col.querySelectorAll('li[data-supplier]').forEach(function(li){
        var ok=(!f.supplier||li.dataset.supplier===f.supplier)&&(!f.season||li.dataset.season===f.season);
        li.hidden=!ok;if(ok)shown++;
      });
      col.querySelector('.count').textContent=shown+(shown===1?' order':' orders');
    });
    var total=document.querySelectorAll('li[data-supplier]:not([hidden])').length;
    document.getElementById('shown').textContent=(f.supplier||f.season)?'Showing '+total+' orders matching the filters.':'';
  }
  function change(){var p=new URLSearchParams();if(sel.supplier.value)p.set('supplier',sel.supplier.value);if(sel.season.value)p.set('season',sel.season.value);
    var h=p.toString();if(h)location.hash=h;else history.replaceState(null,'',location.pathname+location.search);apply();}
  sel.supplier.addEventListener('change',change);sel.season.addEventListener('change',change);
  document.getElementById('clear').addEventListener('click',function(){sel.supplier.value='';sel.season.value='';change();});
  window.addEventListener('hashchange',apply);apply();
})();`;

const options = (values: string[], all: string) =>
  [
    `<option value="">${htmlText(all)}</option>`,
    // The value, not the text: an option's text has its whitespace collapsed, its value is exact.
    ...values.map((v) => `<option value="${htmlText(v)}">${htmlText(v)}</option>`),
  ].join('');

const stageLine = (stage: StageProgress): string => {
  const done = stage.passed === stage.total;
  const stall = stage.stalled
    ? `<span class="stalled">Stalled ${days(stage.stalled.days)} (limit ${stage.stalled.limitDays}) on ${stage.stalled.lineItems} of ${stage.total}</span>`
    : '';
  return `<li><span>${htmlText(stage.name)}</span><span${done ? ' class="done"' : ''}>${stage.passed} of ${stage.total} passed</span>${stall}</li>`;
};

/** "9 days late", "2 days early", "on the due date". */
const lateness = (lateDays: number): string =>
  lateDays > 0 ? `${days(lateDays)} late` : lateDays < 0 ? `${days(-lateDays)} early` : 'on the due date';

/** The forecast completion and its basis (docs/contract.md section 1c), or why there is none. */
const forecastHtml = (card: Card): string => {
  const forecast = card.forecast;
  if (!forecast) {
    const left = card.stages.some((s) => s.passed < s.total);
    return left ? '<dt>Forecast</dt><dd>too little history yet</dd>' : '';
  }
  const { view } = forecast;
  const expected = Math.round((view.stage.expectedMs / 86_400_000) * 10) / 10;
  const basis = `${view.basis.source === 'supplier' ? "supplier's" : "account's"} history, ${view.basis.samples}+ durations a stage`;
  return `<dt>Forecast</dt><dd><time datetime="${htmlText(view.date)}">${htmlText(view.date)}</time>${forecast.lateDays === null ? '' : ` (${lateness(forecast.lateDays)})`}<br><span class="basis">${htmlText(view.stage.name)} usually ${days(expected)}; ${htmlText(basis)}</span></dd>`;
};

const riskLabel = (card: Card): string =>
  card.forecast
    ? `At risk: ends about ${card.forecast.view.date} (${lateness(card.forecast.lateDays ?? 0)})`
    : '';

const cardHtml = (card: Card): string => {
  const atRisk = card.forecast?.atRisk === true;
  const kind =
    card.due.kind === 'overdue' ? ' overdue' : atRisk ? ' risk' : card.due.kind === 'soon' ? ' soon' : '';
  const flags: string[] = [];
  if (card.due.kind === 'overdue' || card.due.kind === 'soon')
    flags.push(`<li class="flag ${card.due.kind}">${htmlText(dueLabel(card.due))}</li>`);
  if (atRisk) flags.push(`<li class="flag risk">${htmlText(riskLabel(card))}</li>`);
  for (const stage of card.stages) {
    if (stage.stalled)
      flags.push(`<li class="flag stalled">${htmlText(stage.name)} stalled ${days(stage.stalled.days)}</li>`);
  }
  return `<li data-supplier="${htmlText(card.supplier)}" data-season="${htmlText(card.season)}">
<article class="card${kind}" data-order="${htmlText(card.number)}" data-due="${card.due.kind}"${atRisk ? ' data-risk="at-risk"' : ''} aria-labelledby="po-${card.orderId}">
<h3 id="po-${card.orderId}">PO ${htmlText(card.number)}</h3>
${flags.length ? `<ul class="flags" aria-label="Attention">${flags.join('')}</ul>` : ''}
<dl><dt>Supplier</dt><dd>${htmlText(card.supplier)}</dd><dt>Season</dt><dd>${htmlText(card.season)}</dd>
<dt>Due</dt><dd>${card.dueDate ? `<time datetime="${htmlText(card.dueDate)}">${htmlText(card.dueDate)}</time>` : 'none'}${card.due.kind === 'later' ? ` (in ${days(card.due.days)})` : ''}</dd>
${forecastHtml(card)}<dt>Line items</dt><dd>${card.lineItems}</dd>${card.deliveryStatus ? `<dt>Delivery</dt><dd>${htmlText(card.deliveryStatus.replace(/_/g, ' '))}</dd>` : ''}</dl>
${card.stages.length ? `<ul class="stages" aria-label="Line items past each stage">${card.stages.map(stageLine).join('')}</ul>` : ''}
</article></li>`;
};

const columnHtml = (
  column: Column,
  index: number,
): string => `<section class="column" data-column="${htmlText(column.name)}" aria-labelledby="col-${index}">
<h2 id="col-${index}"><span>${htmlText(column.name)}</span> <span class="count">${column.cards.length} ${column.cards.length === 1 ? 'order' : 'orders'}</span></h2>
${column.cards.length ? `<ol class="cards">${column.cards.map(cardHtml).join('\n')}</ol>` : '<p class="empty">No orders here.</p>'}
</section>`;

export const renderBoard = (model: BoardModel, opts: RenderOptions = {}): string => {
  const title = opts.title ?? 'Production board';
  const refresh = opts.refreshSeconds ? `<meta http-equiv="refresh" content="${opts.refreshSeconds}">` : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
${refresh}<title>${htmlText(title)}</title><style>${CSS}</style></head>
<body><main>
<header><h1>${htmlText(title)}</h1>
<p class="summary"><strong>${model.orders}</strong> orders in production · <strong>${model.overdue}</strong> overdue · <strong>${model.dueSoon}</strong> due soon · <strong>${model.atRisk}</strong> at risk of finishing late · <strong>${model.stalled}</strong> with a stalled stage · as of <time datetime="${model.generatedAt}">${model.generatedAt.replace('T', ' ').slice(0, 16)} UTC</time> (days counted in ${htmlText(model.timeZone)})</p>
<p class="summary" id="shown" aria-live="polite"></p></header>
<form id="filters" hidden aria-label="Filters">
<label for="f-supplier">Supplier<select id="f-supplier">${options(model.suppliers, 'All suppliers')}</select></label>
<label for="f-season">Season<select id="f-season">${options(model.seasons, 'All seasons')}</select></label>
<button type="button" id="clear">Clear filters</button></form>
<div class="board">
${model.columns.map(columnHtml).join('\n')}
</div></main>
<script>${SCRIPT}</script></body></html>
`;
};
