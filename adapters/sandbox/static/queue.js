// The agent queue: each handoff card rendered from the neutral card, with the same actions as Slack.
import {api, el, fill, hhmm, safeLink} from "./dom.js";

const FLASH_MS = 15000;

function field(label, ...content) {
  return el("div", {class: "field"}, el("div", {class: "label"}, label), el("div", {class: "value"}, ...content));
}

function slaBadge(card) {
  const sla = card.sla || {};
  if (sla.state === "resolved") return el("span", {class: "badge sla resolved"}, "Resolved");
  const due = sla.due ? `${sla.target} due ${hhmm(sla.due)}` : "no SLA";
  return el("span", {class: `badge sla ${sla.state}`, title: sla.due || ""}, `${sla.label} · ${due}`);
}

function customerLine(card) {
  const extra = [card.organisation, card.tier].filter(Boolean).join(", ");
  return [el("strong", {}, card.customer), extra ? ` (${extra})` : "", el("span", {class: "muted"}, ` in ${card.channel}`)];
}

function reasonsBlock(card) {
  if (!card.reasons.length) return el("p", {class: "muted"}, "The category's automation level sends it to a person.");
  return el("ul", {class: "reasons"}, card.reasons.map((r) => el("li", {},
    el("strong", {}, r.label + ": "), r.detail,
    r.evidence.length ? el("div", {class: "evidence"}, r.evidence.map((e) => el("span", {class: "evidence-chip"}, e))) : null)));
}

function sourcesBlock(card) {
  const items = card.sources.map((s) => el("li", {}, safeLink(s.url, s.title), el("span", {class: "muted"}, ` · score ${s.score.toFixed(2)}`)));
  const tag = card.missing_knowledge ? el("span", {class: "tag missing"}, "missing knowledge") : null;
  if (!items.length) return [tag || el("span", {class: "muted"}, "none")];
  return [el("ul", {class: "card-sources"}, items), tag];
}

function details(card) {
  return [
    field("Customer", ...customerLine(card)),
    field("Summary", card.summary),
    field("Original message", el("blockquote", {}, card.original_message)),
    field("Intent", card.intent),
    field("Why escalated", reasonsBlock(card)),
    field("Sources", ...sourcesBlock(card)),
    field("Suggested reply (draft)", el("div", {class: "draft"}, card.suggested_reply || "—")),
    card.internal_action ? field("Internal action", card.internal_action) : null,
    card.notes.length ? field("Thread", el("ul", {class: "notes"}, card.notes.map((n) => el("li", {}, n)))) : null,
  ];
}

function feedbackBlock(card, queue) {
  const fb = card.feedback || {};
  const choice = (label, action, chosen) => el("button", {type: "button", class: "chip" + (chosen ? " chosen" : ""), dataset: {action}, onclick: () => queue.act(card, action)}, label);
  const missingSelect = el("select", {class: "missing-field", "aria-label": "Which field was missing?"},
    queue.missingFields.map((f) => el("option", {value: f.value}, f.label)));
  if (fb.missing_field) missingSelect.value = fb.missing_field;
  return el("div", {class: "feedback"},
    el("div", {class: "question"}, el("span", {}, "Did this need a person?"),
      choice("Yes", "feedback_needed_yes", fb.needed_person === true), choice("No", "feedback_needed_no", fb.needed_person === false)),
    el("div", {class: "question"}, el("span", {}, "Did the card have what you needed?"),
      choice("Yes", "feedback_card_ok", fb.card_complete === true),
      el("span", {class: "missing-group"}, "No, missing:", missingSelect,
        el("button", {type: "button", class: "chip" + (fb.card_complete === false ? " chosen" : ""), dataset: {action: "feedback_card_missing"},
          onclick: () => queue.act(card, "feedback_card_missing", {field: missingSelect.value})}, "Send"))));
}

function editor(card, queue) {
  const area = el("textarea", {class: "editor-text", rows: 4, "aria-label": "Reply to the customer"});
  area.value = queue.drafts.get(card.ticket_id) ?? card.suggested_reply;
  area.addEventListener("input", () => queue.drafts.set(card.ticket_id, area.value));
  return el("div", {class: "editor"}, area, el("div", {class: "row"},
    el("button", {type: "button", class: "primary", dataset: {action: "editor-send"}, onclick: () => queue.act(card, "edit_send", {text: area.value})}, "Send to customer"),
    el("button", {type: "button", class: "ghost", dataset: {action: "editor-cancel"}, onclick: () => queue.closeEditor(card.ticket_id)}, "Cancel")));
}

function buttons(card, queue) {
  return el("div", {class: "actions"}, card.buttons.map((b) => el("button", {
    type: "button", class: b.primary && !card.claimed_by ? "primary" : b.danger ? "danger" : "", dataset: {action: b.action},
    onclick: () => (b.action === "edit_send" ? queue.openEditor(card.ticket_id) : queue.act(card, b.action)),
  }, b.label)));
}

function cardNode(card, queue) {
  const resolved = card.status === "resolved";
  const flash = queue.flashes.get(card.ticket_id);
  const body = resolved ? el("details", {}, el("summary", {}, "Card details"), details(card)) : details(card);
  return el("article", {class: `card status-${card.status} priority-${card.priority}`, dataset: {ticket: card.ticket_id}},
    el("header", {class: "card-head"},
      el("span", {class: `badge priority ${card.priority}`}, card.priority.toUpperCase()), slaBadge(card),
      el("span", {class: "queue-name"}, `#${card.queue} queue`)),
    el("div", {class: "card-title"}, card.title),
    el("div", {class: "status-line"}, card.status_line),
    flash ? el("div", {class: `flash ${flash.ok ? "ok" : "refused"}`, role: "status"}, flash.text) : null,
    body,
    resolved ? feedbackBlock(card, queue) : buttons(card, queue),
    !resolved && queue.editing.has(card.ticket_id) ? editor(card, queue) : null);
}

/** The queue pane: renders cards and runs agent actions as the selected agent. */
export class QueuePane {
  constructor({root, app}) {
    this.app = app;
    this.list = root.querySelector("#cards");
    this.filter = root.querySelector("#queue-filter");
    this.missingFields = [];
    this.flashes = new Map();
    this.editing = new Set();
    this.drafts = new Map();
    this.data = null;
    this.shown = "";
    this.filter.addEventListener("change", () => this.draw(true));
  }

  setQueues(names) {
    const current = this.filter.value;
    fill(this.filter, el("option", {value: ""}, "All queues"), names.map((n) => el("option", {value: n}, `#${n}`)));
    this.filter.value = names.includes(current) ? current : "";
  }

  render(data) {
    this.data = data;
    if (this.filter.options.length <= 1) this.setQueues(data.queues);
    this.draw(false);
  }

  draw(force) {
    if (!this.data) return;
    const cards = this.data.cards.filter((c) => !this.filter.value || c.queue === this.filter.value);
    const key = JSON.stringify([cards, [...this.flashes], [...this.editing]]);
    if (!force && key === this.shown) return;
    this.shown = key;
    const focused = document.activeElement?.classList.contains("editor-text") ? document.activeElement.closest(".card")?.dataset.ticket : null;
    fill(this.list, cards.length ? cards.map((c) => cardNode(c, this)) : el("div", {class: "empty"}, el("p", {}, "No handoffs yet."), el("p", {class: "muted"}, "Try a sample that hands off: its card appears here.")));
    if (focused) this.list.querySelector(`.card[data-ticket="${CSS.escape(focused)}"] .editor-text`)?.focus();
  }

  /** Show an action's outcome on its card for a while (refusals name the winner). */
  flash(ticketId, message) {
    this.flashes.set(ticketId, message);
    setTimeout(() => { if (this.flashes.get(ticketId) === message) { this.flashes.delete(ticketId); this.draw(true); } }, FLASH_MS);
  }

  openEditor(ticketId) { this.editing.add(ticketId); this.draw(true); this.list.querySelector(`.card[data-ticket="${CSS.escape(ticketId)}"] .editor-text`)?.focus(); }

  closeEditor(ticketId) { this.editing.delete(ticketId); this.drafts.delete(ticketId); this.draw(true); }

  async act(card, action, extra = {}) {
    const body = {action, agent: this.app.agentName(), ...extra};
    const result = await api(`/sandbox/api/tickets/${encodeURIComponent(card.ticket_id)}/actions`, body);
    const text = result.data.message || result.data.error || "That did not work.";
    this.flash(card.ticket_id, {ok: result.ok, text: result.ok ? `${body.agent}: ${text}` : text});
    if (result.ok && action === "edit_send") this.closeEditor(card.ticket_id);
    if (result.data.card && this.data) {
      this.data.cards = this.data.cards.map((c) => (c.ticket_id === card.ticket_id ? result.data.card : c));
    }
    this.draw(true);
    this.app.refreshSoon();
  }
}
