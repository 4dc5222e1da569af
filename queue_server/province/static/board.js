// The province big screen: render the board, then follow the hub's live feed (SSE).
// EventSource reconnects by itself; each message carries the whole board, so a reconnect resyncs.
const text = JSON.parse(document.getElementById("catalog").textContent);
const fmt = (key, params = {}) => (text[key] || key).replace(/\{(\w+)\}/g, (_, name) => params[name] ?? "");
const locale = document.documentElement.lang === "en" ? "en-GB" : "vi-VN";  // Vietnamese: 1.177 lượt, 8,6 phút
const number = (value) => new Intl.NumberFormat(locale).format(value);
const decimal = (value) => new Intl.NumberFormat(locale, { minimumFractionDigits: 1, maximumFractionDigits: 1 }).format(value);

function cell(content, className = "num") {
  const td = document.createElement("td");
  td.className = className;
  td.textContent = content;
  return td;
}

function judged(value, ok, shown) {
  if (value === null || value === undefined) return cell(fmt("province.board.no_data"), "num none");
  return cell(shown, `num ${ok ? "ok" : "bad"}`);
}

// A province has 100-170 offices: more than a screen holds, so the table turns pages by itself.
const PAGE_SECONDS = 12;
let page = 0;
let current = null;

function rowsPerPage() {
  const top = document.getElementById("rows").getBoundingClientRect().top;
  return Math.max(5, Math.floor((window.innerHeight - top - 30) / 50));
}

function render(board) {
  current = board;
  const t = board.targets;
  document.getElementById("targets").textContent = fmt("province.board.targets", t);
  document.getElementById("within-head").textContent = fmt("province.board.within_target", t);
  document.getElementById("updated").textContent = fmt("province.board.updated", { time: board.generated_text || "" });
  const s = board.totals || {};
  document.getElementById("summary").textContent = fmt("province.board.summary", {
    reachable: s.reachable ?? 0, offices: s.offices ?? 0, issued: number(s.issued ?? 0), met: s.targets_met ?? 0,
  });
  const rows = document.getElementById("rows");
  const size = rowsPerPage();
  const pages = Math.max(1, Math.ceil(board.offices.length / size));
  page %= pages;
  document.getElementById("page").textContent = pages > 1 ? fmt("province.board.page", { page: page + 1, pages }) : "";
  rows.replaceChildren(...board.offices.slice(page * size, (page + 1) * size).map((o) => {
    const tr = document.createElement("tr");
    if (o.targets_met === 2) tr.classList.add("met");
    if (!o.reachable) tr.classList.add("unreachable");
    tr.append(
      cell(o.rank, "num rank"),
      Object.assign(cell(o.short_name, "name"), { title: o.name }),
      cell(number(o.issued)),
      cell(number(o.served)),
      judged(o.mean_wait_minutes, o.wait_ok, fmt("province.board.minutes", { value: decimal(o.mean_wait_minutes ?? 0) })),
      o.within_target_percent === null ? cell(fmt("province.board.no_data"), "num none") : cell(`${decimal(o.within_target_percent)}%`),
      judged(o.satisfaction_percent, o.satisfaction_ok, `${decimal(o.satisfaction_percent ?? 0)}%`),
      cell(`${number(o.dossiers_on_time)} / ${number(o.dossiers_late)}`),
      cell(o.reachable ? (o.last_seen_text || "") : `${o.last_seen_text || ""} · ${fmt("province.board.unreachable")}`, "num seen"),
      cell(o.backlog === null ? "" : number(o.backlog)),
    );
    return tr;
  }));
  document.getElementById("empty").hidden = board.offices.length > 0;
}

function status(live) {
  const el = document.getElementById("status");
  el.dataset.state = live ? "live" : "offline";
  el.textContent = fmt(live ? "province.board.live" : "province.board.offline");
}

render(JSON.parse(document.getElementById("initial").textContent));
setInterval(() => { page += 1; render(current); }, PAGE_SECONDS * 1000);
const source = new EventSource("api/board/stream");
source.addEventListener("board", (event) => { render(JSON.parse(event.data)); status(true); });
source.onopen = () => status(true);
source.onerror = () => status(false);
