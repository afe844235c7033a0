// Baton sandbox: wires the chat pane, the agent queue and the dashboard, and polls for changes.
import {api, el, fill, randomId, saved, useCsrfToken} from "./dom.js";
import {ChatPane} from "./chat.js";
import {QueuePane} from "./queue.js";
import {Dashboard} from "./dashboard.js";

const POLL_MS = 1000;
const FULL_REFRESH_MS = 15000;
const OTHER = "__other__";

class App {
  constructor() {
    this.identities = [];
    this.identity = null;
    this.conversation = null;
    this.version = -1;
    this.lastRefresh = 0;
    this.busy = false;
    this.chat = new ChatPane({root: document.querySelector(".chat-pane"), app: this});
    this.queue = new QueuePane({root: document.querySelector(".queue-pane"), app: this});
    this.dashboard = new Dashboard({root: document.querySelector("#view-dashboard"), app: this});
  }

  async start() {
    const me = await api("/auth/me");
    if (!me.ok) { this.chat.showError(me.data.error); return; }
    useCsrfToken(me.data.csrf);
    this.me = me.data;
    this.setupAccount();
    const result = await api("/sandbox/api/samples");
    if (!result.ok) { this.chat.showError(result.data.error); return; }
    const {samples, identities, agents, missing_fields: missingFields} = result.data;
    this.identities = identities;
    this.queue.missingFields = missingFields;
    this.setupIdentity();
    this.setupAgents(agents);
    this.setupSamples(samples);
    this.setupTabs();
    document.querySelector("#new-chat").addEventListener("click", () => this.newConversation());
    await this.refresh(true);
    setInterval(() => this.poll(), POLL_MS);
    document.body.dataset.ready = "true";
  }

  setupIdentity() {
    const select = document.querySelector("#identity");
    fill(select, this.identities.map((i) => el("option", {value: i.key}, i.label)));
    select.value = saved.get("identity", this.identities[0].key);
    if (!select.value) select.value = this.identities[0].key;
    select.addEventListener("change", () => this.useIdentity(select.value));
    this.useIdentity(select.value);
  }

  /** Each identity keeps its own chat, so switching customer switches conversation. */
  useIdentity(key) {
    this.identity = this.identities.find((i) => i.key === key) || this.identities[0];
    document.querySelector("#identity").value = this.identity.key;
    saved.set("identity", this.identity.key);
    const chats = saved.get("chats", {});
    this.conversation = chats[this.identity.key] || this.newConversationId();
    this.refresh(true);
  }

  newConversationId() {
    const id = randomId("chat-");
    saved.set("chats", {...saved.get("chats", {}), [this.identity.key]: id});
    return id;
  }

  newConversation() {
    this.conversation = this.newConversationId();
    this.refresh(true);
  }

  setupAgents(agents) {
    const select = document.querySelector("#agent");
    const custom = document.querySelector("#agent-custom");
    fill(select, agents.map((a) => el("option", {value: a}, a)), el("option", {value: OTHER}, "Other…"));
    const name = saved.get("agent", agents[0]);
    select.value = agents.includes(name) ? name : OTHER;
    custom.value = agents.includes(name) ? "" : name;
    custom.hidden = select.value !== OTHER;
    select.addEventListener("change", () => { custom.hidden = select.value !== OTHER; saved.set("agent", this.agentName()); if (!custom.hidden) custom.focus(); });
    custom.addEventListener("input", () => saved.set("agent", this.agentName()));
  }

  /** In a deployment the agent is whoever signed in: show them, offer sign-out, hide what their role cannot open. */
  setupAccount() {
    if (this.me.mode !== "deployment") return;
    document.querySelector("#agent").closest("label").hidden = true;
    document.querySelector(".queue-pane .hint").hidden = true;
    if (this.me.role === "agent") document.querySelector("#tab-dashboard").hidden = true;
    const signOut = el("button", {type: "button", class: "ghost", onclick: () => this.signOut()}, "Sign out");
    fill(document.querySelector(".topbar-note"), `Signed in as ${this.me.name} · ${this.me.role} `, signOut);
  }

  async signOut() {
    await api("/auth/signout", {});
    window.location.assign("/auth/signin");
  }

  agentName() {
    if (this.me && this.me.mode === "deployment") return this.me.name;
    const select = document.querySelector("#agent");
    return select.value === OTHER ? (document.querySelector("#agent-custom").value.trim() || "Agent") : select.value;
  }

  setupSamples(samples) {
    fill(document.querySelector("#samples"), samples.map((s) => el("button", {
      type: "button", class: `sample sample-${s.key}`, dataset: {sample: s.key},
      onclick: () => this.runSample(s),
    }, el("span", {class: "outcome"}, s.outcome), el("span", {class: "sample-text"}, s.text))));
  }

  /** A sample always starts a fresh chat, as its customer, so its outcome is clear. */
  async runSample(sample) {
    if (sample.identity && sample.identity !== this.identity.key) this.useIdentity(sample.identity);
    this.newConversation();
    await this.chat.send(sample.text);
  }

  setupTabs() {
    for (const tab of document.querySelectorAll(".tab")) {
      tab.addEventListener("click", () => this.showView(tab.dataset.view));
    }
  }

  showView(id) {
    for (const tab of document.querySelectorAll(".tab")) {
      const active = tab.dataset.view === id;
      tab.classList.toggle("active", active);
      tab.setAttribute("aria-selected", String(active));
    }
    for (const view of document.querySelectorAll(".view")) view.hidden = view.id !== id;
    if (id === "view-dashboard") this.dashboard.refresh();
  }

  get dashboardVisible() { return !document.querySelector("#view-dashboard").hidden; }

  async poll() {
    if (document.visibilityState === "hidden" || this.busy) return;
    const result = await api("/sandbox/api/version");
    const stale = Date.now() - this.lastRefresh > FULL_REFRESH_MS;  // SLA states change with time alone
    if (result.ok && (result.data.version !== this.version || stale)) await this.refresh(false);
  }

  refreshSoon() { setTimeout(() => this.refresh(false), 0); }

  async refresh(force) {
    this.busy = true;
    this.lastRefresh = Date.now();
    try {
      const conversation = this.conversation;
      const [chat, queue] = await Promise.all([api(`/sandbox/api/conversations/${encodeURIComponent(conversation)}`), api("/sandbox/api/queue")]);
      if (chat.ok && conversation === this.conversation) this.chat.render(chat.data);
      if (queue.ok) { this.queue.render(queue.data); this.version = queue.data.version; }
      if (this.dashboardVisible) await this.dashboard.refresh();
      if (!chat.ok || !queue.ok) this.chat.showError((chat.data.error || queue.data.error));
      else if (force) this.chat.showError("");
    } finally {
      this.busy = false;
    }
  }
}

new App().start();
