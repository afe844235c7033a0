// The customer's chat pane: messages with cited sources, answer buttons, holding and agent replies.
import {api, el, fill, hhmm, randomId, safeLink} from "./dom.js";

const KIND_LABELS = {holding: "handing over to a person", answer: "", bot: ""};

/** The customer as the API wants it, from an identity preset. */
export function customerOf(identity) {
  return {name: identity.name, email: identity.email, organisation: identity.organisation};
}

function sourcesBlock(sources) {
  if (!sources || !sources.length) return null;
  return el("div", {class: "sources"}, el("span", {class: "sources-label"}, "Sources:"),
    sources.map((s) => el("span", {class: "source"}, safeLink(s.url, s.title || s.doc_id))));
}

function answerActions(message, onAction) {
  if (!message.actions || !message.actions.length) return null;
  if (message.feedback) {
    const said = {helpful: "You found this helpful.", not_helpful: "You found this not helpful.", talk_to_person: "You asked for a person."};
    return el("div", {class: "answer-actions done"}, said[message.feedback] || "Thanks for your feedback.");
  }
  return el("div", {class: "answer-actions"}, message.actions.map((a) =>
    el("button", {type: "button", class: "chip", dataset: {action: a.action}, onclick: () => onAction(a.action, message.decision_id)}, a.label)));
}

function bubble(message, onAction) {
  const who = message.role === "customer" ? message.author
    : message.role === "agent" ? `${message.author} · support team` : `Baton${KIND_LABELS[message.kind] ? " · " + KIND_LABELS[message.kind] : ""}`;
  return el("div", {class: `msg ${message.role} kind-${message.kind}`, dataset: {kind: message.kind}},
    el("div", {class: "msg-meta"}, el("span", {class: "who"}, who), el("span", {class: "when"}, hhmm(message.at))),
    el("div", {class: "msg-body"}, message.body),
    sourcesBlock(message.sources),
    answerActions(message, onAction));
}

function emptyChat() {
  return el("div", {class: "empty"}, el("p", {}, "No messages yet."),
    el("p", {class: "muted"}, "Pick a sample above, or type a question below as the selected customer."));
}

function statusText(chat) {
  if (!chat.ticket) return null;
  if (chat.ticket.claimed_by) return `${chat.ticket.claimed_by} from the support team has taken over this chat (ticket ${chat.ticket.id}). The bot stays quiet.`;
  return `Waiting for a person (ticket ${chat.ticket.id}). New messages go straight to the agents' card.`;
}

/** The chat pane: renders a conversation and sends the customer's messages. */
export class ChatPane {
  constructor({root, app}) {
    this.app = app;
    this.list = root.querySelector("#messages");
    this.status = root.querySelector("#chat-status");
    this.error = root.querySelector("#chat-error");
    this.text = root.querySelector("#text");
    this.sendButton = root.querySelector("#send");
    this.shown = "";
    root.querySelector("#composer").addEventListener("submit", (event) => { event.preventDefault(); this.sendTyped(); });
    this.text.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); this.sendTyped(); }
    });
  }

  render(chat) {
    const key = JSON.stringify([chat.conversation, chat.messages, chat.ticket]);
    if (key === this.shown) return;
    this.shown = key;
    const status = statusText(chat);
    this.status.hidden = !status;
    fill(this.status, status || "");
    fill(this.list, chat.messages.length ? chat.messages.map((m) => bubble(m, (a, d) => this.answerAction(a, d))) : emptyChat());
    this.list.scrollTop = this.list.scrollHeight;
  }

  showError(text) {
    this.error.hidden = !text;
    fill(this.error, text || "");
  }

  thinking(on) {
    this.sendButton.disabled = on;
    const old = this.list.querySelector(".typing");
    if (old) old.remove();
    if (on) {
      this.list.appendChild(el("div", {class: "typing"}, "Baton is thinking…"));
      this.list.scrollTop = this.list.scrollHeight;
    }
  }

  async sendTyped() {
    const text = this.text.value;
    if (!text.trim()) { this.showError("Type a message first."); return; }
    if (await this.send(text)) this.text.value = "";
  }

  /** Send one customer message; true when the server took it. */
  async send(text) {
    this.showError("");
    const pending = el("div", {class: "msg customer pending"}, el("div", {class: "msg-body"}, text));
    this.list.querySelector(".empty")?.remove();
    this.list.appendChild(pending);
    this.thinking(true);
    const body = {conversation: this.app.conversation, customer: customerOf(this.app.identity), text, event_id: randomId("ev-")};
    const result = await api("/sandbox/api/messages", body);
    this.thinking(false);
    pending.remove();
    if (!result.ok) { this.showError(result.data.error || "The message could not be sent."); return false; }
    this.render(result.data.chat);
    this.app.refreshSoon();
    return true;
  }

  async answerAction(action, decisionId) {
    const body = {action, decision_id: decisionId ?? undefined, customer: customerOf(this.app.identity)};
    if (action === "talk_to_person") this.thinking(true);
    const result = await api(`/sandbox/api/conversations/${encodeURIComponent(this.app.conversation)}/feedback`, body);
    this.thinking(false);
    if (!result.ok) { this.showError(result.data.error || "That did not work."); return; }
    this.render(result.data.chat);
    this.app.refreshSoon();
  }
}
