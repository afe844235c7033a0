// The dashboard: tickets with SLA state, knowledge gaps, the decision audit trail, and room for KPIs.
import {api, el, fill, hhmm, safeLink} from "./dom.js";
import {chartNodes} from "./charts.js";

const COUNT_LABELS = [["answered", "Answered by the bot"], ["escalated", "Handed to a person"], ["open", "Waiting"], ["claimed", "Claimed"], ["breached", "SLA breached"], ["resolved", "Resolved"]];

function table(headers, rows) {
  return el("table", {}, el("thead", {}, el("tr", {}, headers.map((h) => el("th", {}, h)))), el("tbody", {}, rows));
}

function slaCell(sla) {
  const due = !sla.due ? "" : sla.state === "resolved" ? `at ${hhmm(sla.due)}` : `${sla.target} due ${hhmm(sla.due)}`;
  return el("td", {}, el("span", {class: `badge sla ${sla.state}`}, sla.label), el("div", {class: "muted"}, due));
}

function ticketRows(tickets, onAudit) {
  return tickets.map((t) => el("tr", {dataset: {ticket: t.id}},
    el("td", {}, el("span", {class: `badge priority ${t.priority}`}, t.priority.toUpperCase())),
    el("td", {class: "nowrap"}, t.id), el("td", {}, t.customer, t.organisation ? el("div", {class: "muted"}, t.organisation) : null),
    el("td", {}, t.reasons.join(", ") || "category rule"), el("td", {}, t.status === "claimed" ? `Claimed by ${t.claimed_by}` : t.status),
    slaCell(t.sla),
    el("td", {class: "nowrap"}, t.conversation ? el("button", {type: "button", class: "link", onclick: () => onAudit(t.conversation)}, "Audit trail") : "")));
}

function feedbackText(fb) {
  const needed = fb.needed_person === true ? "needed a person" : fb.needed_person === false ? "no person was needed" : "not rated";
  const card = fb.card_complete === true ? "card complete" : fb.card_complete === false ? `card missing ${fb.missing_field || "something"}` : "card not rated";
  return `${needed} · ${card}`;
}

function resolvedRows(tickets) {
  return tickets.map((t) => el("tr", {dataset: {ticket: t.id}}, el("td", {}, t.id), el("td", {}, t.customer), el("td", {}, feedbackText(t.feedback))));
}

function gapList(gaps) {
  if (!gaps.length) return el("p", {class: "muted"}, "No open knowledge gaps.");
  return el("ol", {class: "gaps"}, gaps.map((g) => el("li", {},
    el("strong", {}, g.question), el("span", {class: "tag"}, `asked ${g.count}×`),
    g.ticket_ids.length ? el("div", {class: "muted"}, `tickets: ${g.ticket_ids.join(", ")}`) : null)));
}

function scoresList(scores) {
  const entries = Object.entries(scores || {});
  if (!entries.length) return null;
  return el("div", {class: "scores"}, entries.map(([k, v]) => el("span", {class: "score"}, `${k} ${Number(v).toFixed(3)}`)));
}

function decisionNode(d) {
  const triggers = d.triggers.map((t) => el("li", {}, el("strong", {}, `${t.label}: `), t.detail,
    t.evidence.length ? el("div", {class: "evidence"}, t.evidence.map((e) => el("span", {class: "evidence-chip"}, e))) : null,
    t.score !== null && t.score !== undefined ? el("span", {class: "muted"}, ` (score ${Number(t.score).toFixed(3)})`) : null));
  return el("article", {class: `decision action-${d.action}`},
    el("header", {}, el("span", {class: `badge action ${d.action}`}, d.action === "answer" ? "Answered" : "Escalated"),
      el("span", {class: "muted"}, ` ${hhmm(d.at)} · rules ${d.rules_version} · ${d.engine} engine · ${d.latency_ms} ms`)),
    el("blockquote", {}, d.input),
    el("div", {}, `Category: ${d.category || "none"}`, d.category_confidence !== null ? ` (confidence ${Number(d.category_confidence).toFixed(2)})` : "",
      ` · automation ${d.automation || "n/a"} · priority ${d.priority || "n/a"} · queue ${d.queue || "n/a"}`, d.tier ? ` · tier ${d.tier}` : ""),
    triggers.length ? el("ul", {class: "reasons"}, triggers) : el("p", {class: "muted"}, "No escalation reason fired."),
    scoresList(d.scores),
    d.sources.length ? el("div", {class: "sources"}, el("span", {class: "sources-label"}, "Sources:"),
      d.sources.map((s) => el("span", {class: "source"}, safeLink(s.url, s.title), ` ${s.score.toFixed(2)}`))) : null,
    d.missing_knowledge ? el("span", {class: "tag missing"}, "missing knowledge") : null,
    d.feedback ? el("div", {class: "muted"}, `Feedback: ${d.feedback}`) : null);
}

/** The dashboard tab; refreshed while it is visible. */
export class Dashboard {
  constructor({root, app}) {
    this.app = app;
    this.root = root;
    this.picker = root.querySelector("#audit-conversation");
    this.picker.addEventListener("change", () => this.loadAudit(this.picker.value));
    this.shown = "";
  }

  async refresh() {
    const [dash, list] = await Promise.all([api("/sandbox/api/dashboard"), api("/sandbox/api/conversations")]);
    if (!dash.ok) return;
    const key = JSON.stringify([dash.data.tickets, dash.data.resolved, dash.data.gaps, dash.data.counts, dash.data.kpi_charts, list.data]);
    if (key === this.shown) return;
    this.shown = key;
    this.render(dash.data, list.ok ? list.data.conversations : []);
  }

  render(data, conversations) {
    const q = (id) => this.root.querySelector(id);
    fill(q("#counts"), COUNT_LABELS.map(([k, label]) => el("div", {class: `count count-${k}`}, el("div", {class: "n"}, String(data.counts[k])), el("div", {}, label))));
    fill(q("#dash-tickets"), data.tickets.length
      ? table(["Priority", "Ticket", "Customer", "Why", "Status", "SLA", ""], ticketRows(data.tickets, (c) => this.showAudit(c)))
      : el("p", {class: "muted"}, "No open tickets."));
    fill(q("#dash-resolved"), data.resolved.length ? table(["Ticket", "Customer", "Agent feedback"], resolvedRows(data.resolved)) : el("p", {class: "muted"}, "Nothing resolved yet."));
    fill(q("#dash-gaps"), gapList(data.gaps));
    fill(q("#kpi-note"), data.kpi_note);
    const charts = chartNodes(data.kpi_charts);
    fill(q("#kpi-charts"), charts.length ? charts.map((svg) => el("figure", {class: "chart"}, svg)) : el("p", {class: "muted"}, "No KPI charts yet."));
    this.fillPicker(conversations);
  }

  fillPicker(conversations) {
    const wanted = this.picker.value || this.app.conversation;
    fill(this.picker, conversations.map((c) => el("option", {value: c.conversation}, `${c.customer || "customer"}: ${c.last.slice(0, 60)}`)));
    if (!conversations.length) { fill(this.root.querySelector("#audit"), el("p", {class: "muted"}, "No decisions yet: send a message first.")); return; }
    this.picker.value = conversations.some((c) => c.conversation === wanted) ? wanted : conversations[0].conversation;
    this.loadAudit(this.picker.value);
  }

  showAudit(conversation) {
    this.picker.value = conversation;
    this.loadAudit(conversation);
    this.root.querySelector("#audit").scrollIntoView({behavior: "smooth", block: "start"});
  }

  async loadAudit(conversation) {
    const target = this.root.querySelector("#audit");
    if (!conversation) return;
    const result = await api(`/sandbox/api/audit/${encodeURIComponent(conversation)}`);
    if (!result.ok) { fill(target, el("p", {class: "error"}, result.data.error)); return; }
    fill(target, result.data.decisions.length ? result.data.decisions.map(decisionNode) : el("p", {class: "muted"}, "No decisions in this conversation."));
  }
}
