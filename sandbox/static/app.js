/* Demo chat page for the local Telegram (sandbox/). Plain JavaScript, no framework, no network
 * beyond the sandbox's own /api. Message text is only ever put in the page as text nodes, never
 * as HTML, so nothing a person or the bot writes can run as markup. */
"use strict";

(() => {
  const API = "/api";
  const POLL_WAIT_SECONDS = 25;
  const PEOPLE_REFRESH_MS = 15000;
  const CHATS_REFRESH_MS = 10000;
  // The General topic of a forum and the single thread of any other chat share this key.
  const MAIN_THREAD = "";
  const SAFE_PROTOCOLS = ["http:", "https:", "mailto:", "tel:", "tg:"];
  // The picker's few emoji: all of them in Telegram's standard reaction set (the sandbox checks).
  const REACTIONS = ["👍", "❤", "🙏", "👏", "😢", "🤔", "🔥", "🎉"];

  const state = {
    info: null,
    people: [],
    coaches: new Set(),
    personId: null,
    personChats: [], // chat records (from /api/chats) of the current person, in API order
    stores: new Map(), // chat id -> ChatStore, kept across person switches
    view: null, // {chatId, key}
    replyTo: null, // message_id the next message answers, or null
    rendered: new Map(), // message_id -> <li> for the open view
    online: null,
    autoOpen: null, // a coach's forum chat whose latest active topic opens once it has loaded
    newCount: 0, // messages that arrived in the open view while it was scrolled up
    typingTimer: null,
  };

  // ---------------------------------------------------------------- small helpers

  /** Create an element with attributes and children (strings become text nodes). */
  function h(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name === "class") node.className = value;
      else if (name.startsWith("on") && typeof value === "function") {
        node.addEventListener(name.slice(2), value);
      } else node.setAttribute(name, value === true ? "" : String(value));
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  // Stroke icons drawn inline: emoji fonts are often missing on a fresh machine.
  const ICONS = {
    document: "M14 3H7a2 2 0 0 0-2 2v14a2 2 0 0 0 2 2h10a2 2 0 0 0 2-2V8z M14 3v5h5 M9 13h6 M9 17h6",
    voice: "M12 3a3 3 0 0 0-3 3v6a3 3 0 0 0 6 0V6a3 3 0 0 0-3-3z M5 11a7 7 0 0 0 14 0 M12 18v3",
    sticker: "M12 3a9 9 0 1 0 0 18a9 9 0 1 0 0-18z M8 14s1.5 2 4 2 4-2 4-2 M9 9.5h.01 M15 9.5h.01",
    attachment: "M21 12l-8.5 8.5a5 5 0 0 1-7-7L14 5a3.5 3.5 0 0 1 5 5l-8.5 8.5a2 2 0 0 1-3-3L15 8",
  };

  function icon(name) {
    const ns = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("class", `icon icon-${name}`);
    const path = document.createElementNS(ns, "path");
    path.setAttribute("d", ICONS[name]);
    svg.append(path);
    return svg;
  }

  const $ = (testid) => document.querySelector(`[data-testid="${testid}"]`);
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  class ApiError extends Error {
    constructor(status, description) {
      super(description || `HTTP ${status}`);
      this.status = status;
      this.description = description;
    }
  }

  /** Call the sandbox people API and return its JSON answer. */
  async function api(method, path, body, signal) {
    const init = { method, signal, cache: "no-store", headers: {} };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const res = await fetch(API + path, init);
    if (!res.ok) {
      let description = "";
      try {
        const data = await res.json();
        description = data.description || data.error || "";
      } catch (_) {
        // a non-JSON error body: the status says enough
      }
      throw new ApiError(res.status, description);
    }
    return res.json();
  }

  function safeUrl(raw, defaultScheme) {
    if (typeof raw !== "string" || !raw) return null;
    let candidate = raw.trim();
    if (defaultScheme && !/^[a-z][a-z0-9+.-]*:/i.test(candidate)) {
      candidate = defaultScheme + candidate;
    }
    try {
      const url = new URL(candidate);
      return SAFE_PROTOCOLS.includes(url.protocol) ? url.href : null;
    } catch (_) {
      return null;
    }
  }

  function formatTime(unixSeconds) {
    if (!unixSeconds) return "";
    return new Date(unixSeconds * 1000).toLocaleTimeString("nl-NL", {
      hour: "2-digit",
      minute: "2-digit",
    });
  }

  function formatDuration(seconds) {
    const s = Math.max(0, Math.round(seconds || 0));
    return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
  }

  function errorText(err) {
    if (err instanceof ApiError && err.description) return `Dat lukte niet: ${err.description}`;
    return "Dat lukte niet. Is de demo nog aan?";
  }

  // ---------------------------------------------------------------- toasts and alerts

  function toast(text, kind) {
    const area = $("toast-area");
    const node = h("div", { class: `toast${kind === "error" ? " toast-error" : ""}`, "data-testid": "toast", role: "status" }, text);
    area.append(node);
    setTimeout(() => node.classList.add("toast-leave"), 3200);
    setTimeout(() => node.remove(), 3600);
  }

  /** Show a callback answer with show_alert as a modal dialog (window.alert would block the page). */
  function showAlert(text) {
    const dialog = h(
      "dialog",
      { class: "alert-dialog", "data-testid": "alert-dialog", "aria-label": "Melding" },
      h("p", { class: "alert-text", "data-testid": "alert-text" }, text),
      h(
        "form",
        { method: "dialog", class: "alert-actions" },
        h("button", { class: "btn btn-primary", "data-testid": "alert-ok", value: "ok" }, "OK"),
      ),
    );
    dialog.addEventListener("close", () => dialog.remove());
    document.body.append(dialog);
    dialog.showModal();
  }

  function setOnline(online) {
    if (state.online === online) return;
    state.online = online;
    const node = $("connection");
    node.textContent = online ? "Verbonden" : "Geen verbinding, opnieuw proberen…";
    node.classList.toggle("status-offline", !online);
  }

  // ---------------------------------------------------------------- people

  function isCoach(id) {
    return state.coaches.has(Number(id));
  }

  function personName(id) {
    const person = state.people.find((p) => p.id === Number(id));
    if (person) return person.first_name;
    return isCoach(id) ? `Coach ${id}` : `Persoon ${id}`;
  }

  // What a person has seen of each chat or topic, kept in the browser, so unread counts are
  // right after a reload too (the sandbox itself knows nothing of reading).
  function seenKey(chatId, key) {
    return `coachbot-demo-seen:${state.personId}:${chatId}:${key}`;
  }

  function lastSeen(chatId, key) {
    try {
      return Number(localStorage.getItem(seenKey(chatId, key))) || 0;
    } catch (_) {
      return 0;
    }
  }

  function markSeen(chatId, key) {
    const last = lastMessage(chatId, key);
    if (!last || last.message_id <= lastSeen(chatId, key)) return;
    try {
      localStorage.setItem(seenKey(chatId, key), String(last.message_id));
    } catch (_) {
      // storage can be off (private mode): counts then start from zero after a reload
    }
  }

  async function loadInfoAndPeople() {
    const [info, people] = await Promise.all([api("GET", "/info"), api("GET", "/people")]);
    state.info = info;
    state.coaches = new Set((info.coaches || []).map(Number));
    state.people = people.people || [];
    const bot = info.bot || {};
    $("bot-name").textContent = bot.username
      ? `${bot.first_name || "Bot"} · @${bot.username}`
      : bot.first_name || "Lokale Telegram";
    renderPersonPicker();
  }

  let pickerSignature = "";
  function renderPersonPicker() {
    const picker = $("person-picker");
    const signature = JSON.stringify([state.people, [...state.coaches], state.personId]);
    if (signature === pickerSignature) return;
    pickerSignature = signature;
    const clients = state.people.filter((p) => !isCoach(p.id));
    const coachIds = [...state.coaches];
    picker.replaceChildren(h("option", { value: "" }, "Kies een persoon…"));
    if (clients.length) {
      picker.append(
        h("optgroup", { label: "Cliënten" }, clients.map((p) => h("option", { value: p.id }, p.first_name))),
      );
    }
    if (coachIds.length) {
      picker.append(
        h(
          "optgroup",
          { label: "Coaches" },
          coachIds.map((id) => h("option", { value: id }, `${personName(id)} (coach)`)),
        ),
      );
    }
    picker.value = state.personId === null ? "" : String(state.personId);
  }

  async function createPerson(firstName) {
    const person = await api("POST", "/people", { first_name: firstName });
    if (!state.people.some((p) => p.id === person.id)) {
      state.people.push({ id: person.id, first_name: person.first_name });
    }
    renderPersonPicker();
    await selectPerson(person.id, person.chat_id);
  }

  async function selectPerson(id, preferredChatId) {
    state.personId = id === null || id === "" ? null : Number(id);
    try {
      if (state.personId === null) localStorage.removeItem("coachbot-demo-person");
      else localStorage.setItem("coachbot-demo-person", String(state.personId));
    } catch (_) {
      // storage can be off (private mode); the choice is then simply not remembered
    }
    $("person-picker").value = state.personId === null ? "" : String(state.personId);
    state.view = null;
    state.personChats = [];
    stopPollsExcept(new Set());
    renderSidebar();
    renderView();
    if (state.personId === null) return;
    await refreshChats();
    if (state.view === null && state.personChats.length) {
      const forum = isCoach(state.personId) && state.personChats.find((c) => c.is_forum);
      const preferred =
        state.personChats.find((c) => c.id === preferredChatId) || forum || state.personChats[0];
      openView(preferred.id, MAIN_THREAD, false);
      // A coach starts where something happened last: the latest active topic, once loaded.
      state.autoOpen = forum && preferred === forum ? forum.id : null;
      if (state.autoOpen !== null && store(forum.id).loaded) openLatestTopic(store(forum.id));
    }
  }

  /** The open (not deleted) topic with the newest message, else the General topic. */
  function latestTopicKey(chat) {
    let best = null;
    for (const topic of chat.topics || []) {
      if (topic.deleted) continue;
      const key = String(topic.message_thread_id);
      const last = lastMessage(chat.id, key);
      if (last && (!best || last.message_id > best.id)) best = { key, id: last.message_id };
    }
    return best ? best.key : MAIN_THREAD;
  }

  function openLatestTopic(s) {
    const chat = chatRecord(s.id);
    const untouched = state.view && state.view.chatId === s.id && state.view.key === MAIN_THREAD;
    state.autoOpen = null;
    if (!chat || !untouched) return;
    const key = latestTopicKey(chat);
    if (key !== MAIN_THREAD) openView(s.id, key, false);
  }

  // ---------------------------------------------------------------- chats and polling

  function store(chatId) {
    let s = state.stores.get(chatId);
    if (!s) {
      s = {
        id: chatId, seq: 0, loaded: false, messages: new Map(), unread: new Map(), abort: null,
        actions: [], actionsVersion: -1,
      };
      state.stores.set(chatId, s);
    }
    return s;
  }

  function chatRecord(chatId) {
    return state.personChats.find((c) => c.id === chatId) || null;
  }

  function threadKeyOf(chat, msg) {
    if (chat && chat.is_forum && msg.message_thread_id) return String(msg.message_thread_id);
    return MAIN_THREAD;
  }

  let refreshing = null;
  let refreshingFor = null;
  /** Re-read the current person's chats (new groups, new or deleted topics) and poll each. */
  function refreshChats() {
    // Share a refresh already under way, but only one for the same person.
    if (refreshing && refreshingFor === state.personId) return refreshing;
    const personId = state.personId;
    refreshingFor = personId;
    const current = (async () => {
      try {
        const data = await api("GET", `/chats?user_id=${encodeURIComponent(personId)}`);
        if (personId !== state.personId) return;
        state.personChats = data.chats || [];
        const ids = new Set(state.personChats.map((c) => c.id));
        stopPollsExcept(ids);
        for (const chat of state.personChats) startPoll(chat.id);
        setOnline(true);
      } catch (err) {
        setOnline(false);
      } finally {
        if (refreshing === current) refreshing = null;
        if (personId === state.personId) {
          renderSidebar();
          renderHeader();
        }
      }
    })();
    refreshing = current;
    return current;
  }

  function stopPollsExcept(keep) {
    for (const s of state.stores.values()) {
      if (s.abort && !keep.has(s.id)) {
        s.abort.abort();
        s.abort = null;
      }
    }
  }

  function startPoll(chatId) {
    const s = store(chatId);
    if (s.abort) return;
    const controller = new AbortController();
    s.abort = controller;
    pollLoop(s, controller.signal);
  }

  async function pollLoop(s, signal) {
    let backoff = 500;
    while (!signal.aborted) {
      try {
        // The first call returns the history at once; later ones wait for news.
        const wait = s.loaded ? POLL_WAIT_SECONDS : 0;
        const query = `since=${s.seq}&actions=${s.actionsVersion}&wait=${wait}`;
        const data = await api("GET", `/chats/${s.id}/events?${query}`, undefined, signal);
        if (signal.aborted) return;
        applyEvents(s, data);
        setOnline(true);
        backoff = 500;
      } catch (err) {
        if (signal.aborted) return;
        setOnline(false);
        await sleep(backoff);
        backoff = Math.min(backoff * 2, 5000);
      }
    }
  }

  function applyEvents(s, data) {
    const firstLoad = !s.loaded;
    let needChats = false;
    const chat = chatRecord(s.id);
    for (const msg of data.messages || []) {
      if (msg.forum_topic_created || msg.forum_topic_edited || msg.forum_topic_closed || msg.forum_topic_reopened) {
        needChats = true;
      }
      const key = threadKeyOf(chat, msg);
      if (chat && chat.is_forum && key !== MAIN_THREAD &&
          !(chat.topics || []).some((t) => String(t.message_thread_id) === key)) {
        needChats = true;
      }
      const isNew = !s.messages.has(msg.message_id) && !msg.deleted;
      upsertMessage(s, msg);
      const fromOther = !msg.from || Number(msg.from.id) !== state.personId;
      const viewed = state.view && state.view.chatId === s.id && state.view.key === key && !document.hidden;
      // On the first load, what came after the person last looked counts as unread.
      const unseen = !firstLoad || msg.message_id > lastSeen(s.id, key);
      if (isNew && unseen && fromOther && !viewed && !serviceOnly(msg)) {
        s.unread.set(key, (s.unread.get(key) || 0) + 1);
      }
    }
    if (typeof data.seq === "number" && data.seq > s.seq) s.seq = data.seq;
    if (Array.isArray(data.actions)) {
      s.actions = data.actions;
      s.actionsVersion = data.actions_version;
      renderTyping();
    }
    s.loaded = true;
    if (firstLoad && state.view && state.view.chatId === s.id) updateEmptyState();
    if (state.view && state.view.chatId === s.id && !document.hidden) {
      markSeen(s.id, state.view.key);
    }
    renderSidebar();
    if (firstLoad && state.autoOpen === s.id) openLatestTopic(s);
    if (needChats) refreshChats();
  }

  function serviceOnly(msg) {
    return Boolean(serviceText(msg)) && !msg.text && !msg.caption;
  }

  /** Store a message (or delete it) and update the open view in place. */
  function upsertMessage(s, msg) {
    const id = msg.message_id;
    if (msg.deleted) {
      s.messages.delete(id);
      const node = state.rendered.get(id);
      if (node && state.view && state.view.chatId === s.id) {
        node.remove();
        state.rendered.delete(id);
        updateEmptyState();
      }
      if (state.replyTo === id) setReplyTo(null);
      updateReplyKeyboard();
      return;
    }
    s.messages.set(id, msg);
    if (!state.view || state.view.chatId !== s.id) return;
    if (threadKeyOf(chatRecord(s.id), msg) !== state.view.key) return;
    const list = $("message-list");
    const mine = Boolean(msg.from) && Number(msg.from.id) === state.personId;
    const stick = nearBottom() || mine;
    const node = renderMessage(s.id, msg);
    const old = state.rendered.get(id);
    if (old) {
      const hadFocus = old.contains(document.activeElement);
      old.replaceWith(node);
      if (hadFocus) node.focus({ preventScroll: true });
    } else {
      let before = null;
      for (const child of list.children) {
        if (Number(child.dataset.messageId) > id) {
          before = child;
          break;
        }
      }
      list.insertBefore(node, before);
      if (!stick && !serviceOnly(msg)) {
        // Scrolled up to read: say that something new came, and where it starts.
        if (!list.querySelector('[data-testid="new-divider"]')) list.insertBefore(newDivider(), node);
        state.newCount += 1;
        renderNewMarker();
      }
    }
    state.rendered.set(id, node);
    updateEmptyState();
    updateReplyKeyboard();
    if (stick) scrollToBottom();
  }

  function newDivider() {
    return h("li", { class: "new-divider", "data-testid": "new-divider", role: "separator" },
      h("span", {}, "Nieuwe berichten"));
  }

  function renderNewMarker() {
    const pill = $("new-messages");
    pill.hidden = state.newCount === 0;
    $("new-messages-count").textContent = state.newCount === 1
      ? "1 nieuw bericht"
      : `${state.newCount} nieuwe berichten`;
  }

  function onScroll() {
    if (state.newCount && nearBottom()) {
      state.newCount = 0;
      renderNewMarker();
    }
  }

  function jumpToNew() {
    const divider = $("message-list").querySelector('[data-testid="new-divider"]');
    const wrap = document.querySelector(".messages-wrap");
    if (divider && divider.offsetTop > wrap.scrollTop + 8) {
      divider.scrollIntoView({ block: "start" });
    } else {
      scrollToBottom();
    }
    state.newCount = 0;
    renderNewMarker();
  }

  /** "typt…" while the bot shows a chat action in the open chat or topic (until it expires). */
  function renderTyping() {
    clearTimeout(state.typingTimer);
    const box = $("typing-indicator");
    let action = null;
    if (state.view) {
      const s = state.stores.get(state.view.chatId);
      const chat = chatRecord(state.view.chatId);
      const now = Date.now() / 1000;
      action = ((s && s.actions) || []).find((a) => {
        const key = chat && chat.is_forum && a.message_thread_id ? String(a.message_thread_id) : MAIN_THREAD;
        return key === state.view.key && a.until > now;
      }) || null;
    }
    const wasHidden = box.hidden;
    box.hidden = !action;
    if (!action) {
      renderHeader();
      return;
    }
    const bot = (state.info && state.info.bot) || {};
    $("typing-text").textContent = `${bot.first_name || "De bot"} ${action.action === "typing" ? "typt" : "is bezig"}…`;
    renderHeader();
    if (wasHidden && nearBottom()) scrollToBottom();
    state.typingTimer = setTimeout(renderTyping, Math.max(50, (action.until - Date.now() / 1000) * 1000));
  }

  function nearBottom() {
    const wrap = document.querySelector(".messages-wrap");
    return wrap.scrollHeight - wrap.scrollTop - wrap.clientHeight < 80;
  }

  function scrollToBottom() {
    const wrap = document.querySelector(".messages-wrap");
    wrap.scrollTop = wrap.scrollHeight;
  }

  // ---------------------------------------------------------------- sidebar

  function lastMessage(chatId, key) {
    const s = state.stores.get(chatId);
    if (!s) return null;
    const chat = chatRecord(chatId);
    let best = null;
    for (const msg of s.messages.values()) {
      if (threadKeyOf(chat, msg) !== key) continue;
      if (!best || msg.message_id > best.message_id) best = msg;
    }
    return best;
  }

  function chatTitle(chat) {
    if (!chat) return "";
    if (chat.type === "private") {
      const bot = (state.info && state.info.bot) || {};
      return bot.first_name || "Bot";
    }
    return chat.title || "Groep";
  }

  function badge(count) {
    if (!count) return null;
    return h("span", { class: "badge", "data-testid": "unread-badge", "aria-label": `${count} nieuw` }, String(count));
  }

  function renderSidebar() {
    const list = $("chat-list");
    const focused = document.activeElement;
    const focusKey = focused && list.contains(focused)
      ? `${focused.dataset.chatId}|${focused.dataset.threadId || ""}`
      : null;
    list.replaceChildren();
    $("chat-list-empty").hidden = state.personChats.length > 0;
    $("chat-list-empty").textContent = state.personId === null
      ? "Kies of maak eerst een persoon."
      : "Nog geen gesprekken.";
    for (const chat of state.personChats) {
      const s = store(chat.id);
      const isForum = Boolean(chat.is_forum);
      const current = state.view && state.view.chatId === chat.id;
      const unreadAll = [...s.unread.values()].reduce((a, b) => a + b, 0);
      const preview = lastMessage(chat.id, MAIN_THREAD);
      const item = h(
        "li",
        { class: "chat-entry" },
        h(
          "button",
          {
            type: "button",
            class: `chat-item${current && (!isForum || state.view.key === MAIN_THREAD) ? " active" : ""}`,
            "data-testid": "chat-item",
            "data-chat-id": chat.id,
            "data-chat-type": chat.type,
            "aria-current": current && (!isForum || state.view.key === MAIN_THREAD) ? "true" : null,
            onclick: () => openView(chat.id, MAIN_THREAD, true),
          },
          h("span", { class: `avatar${chat.type === "private" ? " avatar-bot" : " avatar-group"}`, "aria-hidden": "true" },
            (chatTitle(chat)[0] || "?").toUpperCase()),
          h(
            "span",
            { class: "chat-item-text" },
            h("span", { class: "chat-item-title" }, chatTitle(chat)),
            h(
              "span",
              { class: "chat-item-preview" },
              isForum ? "Groep met een onderwerp per cliënt" : previewText(preview),
            ),
          ),
          badge(isForum ? unreadAll : s.unread.get(MAIN_THREAD)),
        ),
      );
      if (isForum) {
        const topics = h("ul", { class: "topic-list", "data-testid": "topic-list", "aria-label": `Onderwerpen in ${chatTitle(chat)}` });
        // A deleted topic has lost its messages; keep it listed only while it is open.
        const live = (chat.topics || []).filter(
          (t) => !t.deleted || (current && state.view.key === String(t.message_thread_id)),
        );
        const entries = [{ message_thread_id: MAIN_THREAD, name: "Algemeen", deleted: false }, ...live];
        for (const topic of entries) {
          const key = String(topic.message_thread_id);
          const active = current && state.view.key === key;
          const last = lastMessage(chat.id, key);
          topics.append(
            h(
              "li",
              {},
              h(
                "button",
                {
                  type: "button",
                  class: `topic-item${active ? " active" : ""}${topic.deleted ? " deleted" : ""}`,
                  "data-testid": "topic-item",
                  "data-chat-id": chat.id,
                  "data-thread-id": key,
                  "aria-current": active ? "true" : null,
                  onclick: () => openView(chat.id, key, true),
                },
                h("span", { class: "topic-hash", "aria-hidden": "true" }, "#"),
                h(
                  "span",
                  { class: "chat-item-text" },
                  h("span", { class: "topic-name" }, topic.name || "Onderwerp",
                    topic.deleted ? h("span", { class: "topic-deleted" }, " (verwijderd)") : null),
                  h("span", { class: "chat-item-preview" }, previewText(last)),
                ),
                badge(s.unread.get(key)),
              ),
            ),
          );
        }
        item.append(topics);
      }
      list.append(item);
    }
    if (focusKey) {
      for (const node of list.querySelectorAll("button")) {
        if (`${node.dataset.chatId}|${node.dataset.threadId || ""}` === focusKey) {
          node.focus({ preventScroll: true });
          break;
        }
      }
    }
  }

  function previewText(msg) {
    if (!msg) return "";
    const who = msg.from && Number(msg.from.id) === state.personId ? "Jij: " : "";
    return who + (snippet(msg) || "");
  }

  function snippet(msg) {
    const text = msg.text || msg.caption;
    if (text) return text.length > 70 ? `${text.slice(0, 70)}…` : text;
    return mediaLabel(msg) || serviceText(msg) || "Bericht";
  }

  // ---------------------------------------------------------------- the open chat

  function openView(chatId, key, fromUser) {
    if (fromUser) state.autoOpen = null;
    state.view = { chatId, key };
    const s = store(chatId);
    const unread = s.unread.get(key) || 0;
    s.unread.delete(key);
    setReplyTo(null);
    renderSidebar();
    renderView(unread ? lastSeen(chatId, key) : null);
    markSeen(chatId, key);
    document.body.classList.remove("show-sidebar");
    document.body.classList.add("show-chat");
    if (fromUser) $("message-input").focus();
  }

  function currentTopic() {
    if (!state.view) return null;
    const chat = chatRecord(state.view.chatId);
    if (!chat || !chat.is_forum || state.view.key === MAIN_THREAD) return null;
    return (chat.topics || []).find((t) => String(t.message_thread_id) === state.view.key) || null;
  }

  function renderHeader() {
    const title = $("chat-title");
    const sub = $("chat-subtitle");
    if (!state.view) {
      title.textContent = state.personId === null ? "Geen gesprek gekozen" : "Kies een gesprek";
      sub.textContent = state.personId === null ? "" : `Je bent ${personName(state.personId)}`;
      return;
    }
    const chat = chatRecord(state.view.chatId);
    const typing = !$("typing-indicator").hidden;
    const who = typing
      ? $("typing-text").textContent
      : `Je bent ${personName(state.personId)}${isCoach(state.personId) ? " (coach)" : ""}`;
    if (chat && chat.is_forum) {
      const topic = currentTopic();
      title.textContent = state.view.key === MAIN_THREAD ? "Algemeen" : topic ? topic.name : "Onderwerp";
      sub.textContent = `${chatTitle(chat)} · ${who}`;
    } else if (chat && chat.type === "private") {
      const bot = (state.info && state.info.bot) || {};
      title.textContent = chatTitle(chat);
      sub.textContent = `${bot.username ? `@${bot.username} · ` : ""}${who}`;
    } else {
      title.textContent = chatTitle(chat) || "Gesprek";
      sub.textContent = who;
    }
  }

  function renderView(seenBefore) {
    state.newCount = 0;
    renderNewMarker();
    renderTyping();
    const list = $("message-list");
    list.replaceChildren();
    state.rendered.clear();
    const input = $("message-input");
    const send = $("send-button");
    const enabled = Boolean(state.view) && state.personId !== null;
    input.disabled = !enabled;
    send.disabled = !enabled;
    for (const button of document.querySelectorAll(".btn-attach")) button.disabled = !enabled;
    input.placeholder = enabled ? "Schrijf een bericht…" : "Kies eerst een gesprek";
    if (!state.view) {
      updateEmptyState();
      updateReplyKeyboard();
      return;
    }
    const s = store(state.view.chatId);
    const chat = chatRecord(state.view.chatId);
    const msgs = [...s.messages.values()]
      .filter((m) => threadKeyOf(chat, m) === state.view.key)
      .sort((a, b) => a.message_id - b.message_id);
    let divider = null;
    for (const msg of msgs) {
      const unseen = seenBefore !== null && seenBefore !== undefined && msg.message_id > seenBefore;
      if (!divider && unseen && !isMine(msg) && !serviceOnly(msg)) {
        divider = newDivider();
        list.append(divider);
      }
      const node = renderMessage(s.id, msg);
      list.append(node);
      state.rendered.set(msg.message_id, node);
    }
    updateEmptyState();
    updateReplyKeyboard();
    if (divider) divider.scrollIntoView({ block: "start" });
    else scrollToBottom();
  }

  function updateEmptyState() {
    const box = $("empty-state");
    const [title, body] = box.querySelectorAll("p");
    if (!state.view) {
      title.textContent = "Welkom bij de demo";
      body.textContent = "Maak links een cliënt aan en stuur /start om met de bot te praten. " +
        "Kies een coach om de coachgroep met een onderwerp per cliënt te zien.";
      box.hidden = false;
      return;
    }
    const s = state.stores.get(state.view.chatId);
    box.hidden = !s || !s.loaded || state.rendered.size > 0;
    const chat = chatRecord(state.view.chatId);
    title.textContent = "Nog geen berichten";
    body.textContent = chat && chat.type === "private"
      ? "Stuur /start om het gesprek met de bot te beginnen."
      : "Hier komen de berichten van dit gesprek.";
  }

  // ---------------------------------------------------------------- one message

  function serviceText(msg) {
    if (msg.forum_topic_created) return `Onderwerp „${msg.forum_topic_created.name}” aangemaakt`;
    if (msg.forum_topic_edited) {
      return msg.forum_topic_edited.name ? `Onderwerp hernoemd naar „${msg.forum_topic_edited.name}”` : "Onderwerp aangepast";
    }
    if (msg.forum_topic_closed) return "Onderwerp gesloten";
    if (msg.forum_topic_reopened) return "Onderwerp heropend";
    if (msg.new_chat_members) return `${msg.new_chat_members.map((u) => u.first_name).join(", ")} doet mee`;
    if (msg.left_chat_member) return `${msg.left_chat_member.first_name} is weg`;
    if (msg.new_chat_title) return `Groepsnaam is nu „${msg.new_chat_title}”`;
    if (msg.group_chat_created || msg.supergroup_chat_created) return "Groep aangemaakt";
    if (msg.pinned_message) return "Bericht vastgezet";
    return null;
  }

  function mediaLabel(msg) {
    if (msg.photo) return "Foto";
    if (msg.sticker) return `Sticker ${msg.sticker.emoji || ""}`.trim();
    if (msg.voice) return `Spraakbericht (${formatDuration(msg.voice.duration)})`;
    if (msg.video_note) return "Videoboodschap";
    if (msg.video) return "Video";
    if (msg.animation) return "GIF";
    if (msg.audio) return `Audio${msg.audio.title ? `: ${msg.audio.title}` : ""}`;
    if (msg.document) return `Document: ${msg.document.file_name || "bestand"}`;
    if (msg.location) return "Locatie";
    if (msg.contact) return `Contact: ${msg.contact.first_name || ""}`.trim();
    if (msg.poll) return `Peiling: ${msg.poll.question}`;
    if (msg.dice) return `Dobbelsteen ${msg.dice.emoji || ""}`.trim();
    return null;
  }

  function fileUrl(fileId) {
    return `${API}/files/${encodeURIComponent(fileId)}`;
  }

  function largestPhoto(sizes) {
    let best = null;
    for (const size of sizes || []) {
      const area = (size.width || 0) * (size.height || 0);
      const bestArea = best ? (best.width || 0) * (best.height || 0) : -1;
      if (!best || area > bestArea || (area === bestArea && (size.file_size || 0) >= (best.file_size || 0))) {
        best = size;
      }
    }
    return best;
  }

  function renderMedia(msg) {
    if (msg.photo && msg.photo.length) {
      const size = largestPhoto(msg.photo);
      const img = h("img", {
        class: "photo",
        src: fileUrl(size.file_id),
        alt: msg.caption ? `Foto: ${msg.caption.slice(0, 80)}` : "Foto",
        loading: "lazy",
        width: size.width || null,
        height: size.height || null,
        "data-testid": "message-photo",
      });
      img.addEventListener("load", () => {
        if (nearBottom()) scrollToBottom();
      });
      return h("a", { class: "photo-link", href: fileUrl(size.file_id), target: "_blank", rel: "noopener" }, img);
    }
    if (msg.document) {
      const name = msg.document.file_name || "bestand";
      return h(
        "a",
        { class: "document", href: fileUrl(msg.document.file_id), download: name, "data-testid": "message-document" },
        h("span", { class: "document-icon" }, icon("document")),
        h("span", { class: "document-name" }, name),
      );
    }
    const label = mediaLabel(msg);
    if (!label) return null;
    const name = msg.sticker ? "sticker" : msg.voice ? "voice" : msg.document ? "document" : "attachment";
    return h(
      "div",
      { class: "media-label", "data-testid": "message-media" },
      h("span", { class: "media-icon" }, icon(name)),
      h("span", {}, label),
    );
  }

  /** Build the DOM for Telegram text with entities; offsets are UTF-16 units, like JS strings. */
  function renderRich(text, entities, chatId) {
    const frag = document.createDocumentFragment();
    const sorted = (entities || [])
      .filter((e) => Number.isInteger(e.offset) && Number.isInteger(e.length) && e.length > 0 && e.offset >= 0)
      .map((e) => ({ ...e, end: Math.min(e.offset + e.length, text.length) }))
      .filter((e) => e.offset < e.end)
      .sort((a, b) => a.offset - b.offset || b.end - a.end);
    buildRange(frag, text, 0, text.length, sorted, chatId);
    return frag;
  }

  function buildRange(parent, text, start, end, entities, chatId) {
    let pos = start;
    let i = 0;
    while (i < entities.length) {
      const entity = entities[i];
      if (entity.offset < pos) {
        // partly overlaps an entity already drawn: Telegram does not allow that, skip it
        i += 1;
        continue;
      }
      if (entity.offset > pos) parent.append(document.createTextNode(text.slice(pos, entity.offset)));
      const entityEnd = Math.min(entity.end, end);
      const inner = [];
      let j = i + 1;
      while (j < entities.length && entities[j].offset < entityEnd) {
        const child = entities[j];
        inner.push(child.end > entityEnd ? { ...child, end: entityEnd } : child);
        j += 1;
      }
      const { outer, content } = entityNode(entity, text.slice(entity.offset, entityEnd), chatId);
      buildRange(content, text, entity.offset, entityEnd, inner, chatId);
      parent.append(outer);
      pos = entityEnd;
      i = j;
    }
    if (pos < end) parent.append(document.createTextNode(text.slice(pos, end)));
  }

  function entityNode(entity, slice, chatId) {
    const simple = (tag, cls) => {
      const node = h(tag, cls ? { class: cls } : {});
      return { outer: node, content: node };
    };
    switch (entity.type) {
      case "bold":
        return simple("strong");
      case "italic":
        return simple("em");
      case "underline":
        return simple("u");
      case "strikethrough":
        return simple("s");
      case "code":
        return simple("code", "inline-code");
      case "pre": {
        const code = h("code", { "data-language": entity.language || null });
        return { outer: h("pre", { class: "pre" }, code), content: code };
      }
      case "blockquote":
        return simple("blockquote", "quote");
      case "expandable_blockquote":
        return simple("blockquote", "quote expandable");
      case "spoiler": {
        const node = h("span", {
          class: "spoiler",
          tabindex: "0",
          role: "button",
          "aria-label": "Verborgen tekst, klik om te tonen",
          "data-testid": "spoiler",
        });
        const reveal = (event) => {
          event.stopPropagation();
          node.classList.add("revealed");
          node.removeAttribute("role");
          node.removeAttribute("aria-label");
          node.removeAttribute("tabindex");
        };
        node.addEventListener("click", reveal);
        node.addEventListener("keydown", (event) => {
          if (event.key === "Enter" || event.key === " ") {
            event.preventDefault();
            reveal(event);
          }
        });
        return { outer: node, content: node };
      }
      case "text_link":
      case "url":
      case "email":
      case "phone_number": {
        let href = null;
        if (entity.type === "text_link") href = safeUrl(entity.url);
        else if (entity.type === "url") href = safeUrl(slice, "https://");
        else if (entity.type === "email") href = safeUrl(`mailto:${slice}`);
        else href = safeUrl(`tel:${slice.replace(/[^+\d]/g, "")}`);
        if (!href) return simple("span", "link-blocked");
        const node = h("a", { href, target: "_blank", rel: "noopener noreferrer", class: "link" });
        return { outer: node, content: node };
      }
      case "bot_command": {
        // Like Telegram: a command in a message can be tapped to send it.
        const node = h("button", {
          type: "button",
          class: "command",
          "data-testid": "command-link",
          title: `Stuur ${slice}`,
          onclick: (event) => {
            event.stopPropagation();
            if (state.view && state.view.chatId === chatId) sendPayload({ text: slice.split("@")[0] });
          },
        });
        return { outer: node, content: node };
      }
      case "mention":
      case "hashtag":
      case "cashtag":
      case "text_mention":
        return simple("span", "mention");
      default:
        return simple("span");
    }
  }

  function isMine(msg) {
    return Boolean(msg.from) && Number(msg.from.id) === state.personId;
  }

  function senderName(msg) {
    if (!msg.from) return msg.sender_chat ? msg.sender_chat.title || "" : "";
    const u = msg.from;
    return [u.first_name, u.last_name].filter(Boolean).join(" ") || (u.username ? `@${u.username}` : "");
  }

  function renderMessage(chatId, msg) {
    const chat = chatRecord(chatId);
    const service = serviceText(msg);
    if (service && !msg.text && !msg.caption) {
      return h(
        "li",
        { class: "message service", "data-testid": "message", "data-message-id": msg.message_id, "data-service": "true" },
        h("span", { class: "service-text" }, service),
      );
    }
    const mine = isMine(msg);
    const fromBot = Boolean(msg.from && msg.from.is_bot);
    const isPrivate = chat ? chat.type === "private" : chatId > 0;
    const li = h("li", {
      class: `message ${mine ? "out" : "in"}${fromBot ? " from-bot" : ""}${state.replyTo === msg.message_id ? " replying" : ""}`,
      "data-testid": "message",
      "data-message-id": msg.message_id,
      "data-from-bot": String(fromBot),
      tabindex: "-1",
    });
    const bubble = h("div", { class: "bubble" });

    if (!isPrivate && !mine) {
      // In a group the bot's name ("Coach" in the demo) must not pass for a person's: a tag says
      // it is the bot, as the bot's messages there speak for clients, not as a coach.
      bubble.append(
        h(
          "div",
          { class: `sender${fromBot ? " sender-bot" : ""}`, "data-testid": "sender" },
          senderName(msg),
          fromBot ? h("span", { class: "sender-tag", "data-testid": "bot-tag" }, "bot") : null,
        ),
      );
    }
    const reply = msg.reply_to_message;
    // In a forum every topic message "replies" to the topic's first message; that is no real reply.
    if (reply && !reply.forum_topic_created && !(msg.is_topic_message && reply.message_id === msg.message_thread_id)) {
      bubble.append(
        h(
          "button",
          {
            type: "button",
            class: "reply-quote",
            "data-testid": "reply-quote",
            title: "Ga naar het bericht",
            onclick: (event) => {
              event.stopPropagation();
              const target = state.rendered.get(reply.message_id);
              if (target) {
                target.scrollIntoView({ block: "center", behavior: "smooth" });
                target.classList.remove("flash");
                void target.offsetWidth; // restart the highlight animation
                target.classList.add("flash");
              }
            },
          },
          h("span", { class: "reply-quote-name" }, senderName(reply) || "Bericht"),
          h("span", { class: "reply-quote-text" }, snippet(reply)),
        ),
      );
    }
    const media = renderMedia(msg);
    if (media) bubble.append(media);
    if (typeof msg.text === "string") {
      bubble.append(h("div", { class: "text", "data-testid": "message-text" }, renderRich(msg.text, msg.entities, chatId)));
    }
    if (typeof msg.caption === "string" && msg.caption) {
      bubble.append(h("div", { class: "text caption", "data-testid": "message-caption" }, renderRich(msg.caption, msg.caption_entities, chatId)));
    }
    bubble.append(
      h(
        "span",
        { class: "meta" },
        msg.edit_date ? h("span", { class: "edited", "data-testid": "message-edited" }, "bewerkt ") : null,
        h("time", { datetime: msg.date ? new Date(msg.date * 1000).toISOString() : null }, formatTime(msg.date)),
      ),
    );

    // Bubble and keyboard share one column, so the buttons are as wide as the bubble.
    const body = h("div", { class: "message-body" }, bubble);
    const reactions = renderReactions(chatId, msg);
    if (reactions) body.append(reactions);
    const row = h("div", { class: "message-row" }, body);
    row.append(
      h(
        "button",
        {
          type: "button",
          class: "reply-action react-action",
          "data-testid": "react-button",
          "aria-label": "Reageren",
          "aria-haspopup": "true",
          title: "Reageren met een emoji",
          onclick: (event) => {
            event.stopPropagation();
            openReactionPicker(chatId, msg, event.currentTarget);
          },
        },
        "☺",
      ),
    );
    row.append(
      h(
        "button",
        {
          type: "button",
          class: "reply-action",
          "data-testid": "reply-button",
          "aria-label": "Beantwoorden",
          title: "Beantwoorden",
          onclick: (event) => {
            event.stopPropagation();
            setReplyTo(msg.message_id);
          },
        },
        "↩",
      ),
    );
    li.append(row);

    // A coach answers a relayed message in a private chat by replying to it: a click is enough.
    if (isPrivate && isCoach(state.personId)) {
      bubble.classList.add("clickable");
      bubble.addEventListener("click", (event) => {
        if (event.target.closest("a, button, [role=button]")) return;
        const selection = window.getSelection();
        if (selection && String(selection).length > 0) return;
        setReplyTo(msg.message_id);
      });
    }

    const keyboard = msg.reply_markup && msg.reply_markup.inline_keyboard;
    if (Array.isArray(keyboard) && keyboard.length) {
      li.classList.add("has-keyboard");
      body.append(renderInlineKeyboard(chatId, msg, keyboard));
    }
    return li;
  }

  // ---------------------------------------------------------------- reactions

  /** Who reacted, in words: "jij", the bot's name, or a person's name. */
  function reactorName(who) {
    if (who === "bot") return `${((state.info && state.info.bot) || {}).first_name || "de"} (de bot)`;
    if (Number(who) === state.personId) return "jij";
    return personName(Number(who));
  }

  /** The person's own reactions on a message, as emoji. */
  function myReactions(msg) {
    return (msg.reactions || [])
      .filter((r) => r.type === "emoji" && r.by.some((who) => Number(who) === state.personId))
      .map((r) => r.key);
  }

  /** The reactions under a message, as Telegram shows them: emoji and count, mine marked. */
  function renderReactions(chatId, msg) {
    const list = msg.reactions || [];
    if (!list.length) return null;
    const box = h("div", { class: "reactions", "data-testid": "reactions", role: "group", "aria-label": "Reacties" });
    for (const r of list) {
      const mine = r.by.some((who) => Number(who) === state.personId);
      const label = r.type === "emoji" ? r.key : "★";
      const names = r.by.map(reactorName).join(", ");
      const chip = h(
        "button",
        {
          type: "button",
          class: `reaction${mine ? " mine" : ""}`,
          "data-testid": "reaction",
          "data-emoji": r.key,
          "data-by": r.by.join(","),
          "aria-pressed": String(mine),
          title: r.type === "emoji" ? `${r.key} van ${names}` : `eigen emoji van ${names}`,
          disabled: r.type !== "emoji",
        },
        h("span", { class: "reaction-emoji" }, label),
        r.by.length > 1 ? h("span", { class: "reaction-count" }, String(r.by.length)) : null,
        h("span", { class: "reaction-who" }, r.by.includes("bot") ? "🤖" : ""),
      );
      chip.addEventListener("click", (event) => {
        event.stopPropagation();
        react(chatId, msg, mine ? null : r.key);
      });
      box.append(chip);
    }
    return box;
  }

  function closeReactionPicker() {
    const open = document.querySelector('[data-testid="reaction-picker"]');
    if (open) open.remove();
  }

  /** A small picker of reaction emoji beside the message; the emoji already chosen takes it away. */
  function openReactionPicker(chatId, msg, anchor) {
    const already = document.querySelector('[data-testid="reaction-picker"]');
    closeReactionPicker();
    if (already && Number(already.dataset.messageId) === msg.message_id) return;
    const mine = myReactions(msg);
    const picker = h("div", {
      class: "reaction-picker",
      "data-testid": "reaction-picker",
      "data-message-id": msg.message_id,
      role: "menu",
      "aria-label": "Kies een reactie",
    });
    for (const emoji of REACTIONS) {
      const chosen = mine.includes(emoji);
      const option = h(
        "button",
        {
          type: "button",
          class: `reaction-option${chosen ? " chosen" : ""}`,
          "data-testid": "reaction-option",
          "data-emoji": emoji,
          role: "menuitem",
          title: chosen ? "Reactie weghalen" : `Reageer met ${emoji}`,
        },
        emoji,
      );
      option.addEventListener("click", (event) => {
        event.stopPropagation();
        closeReactionPicker();
        react(chatId, msg, chosen ? null : emoji);
      });
      picker.append(option);
    }
    const row = anchor.closest(".message-row");
    (row || anchor.parentElement).append(picker);
    const first = picker.querySelector("button");
    if (first) first.focus({ preventScroll: true });
  }

  async function react(chatId, msg, emoji) {
    if (state.personId === null) return;
    try {
      await api("POST", `/chats/${chatId}/react`, {
        user_id: state.personId,
        message_id: msg.message_id,
        emoji,
      });
    } catch (err) {
      toast(errorText(err), "error");
    }
  }

  function renderInlineKeyboard(chatId, msg, rows) {
    const box = h("div", { class: "inline-keyboard", "data-testid": "inline-keyboard", role: "group", "aria-label": "Knoppen" });
    for (const row of rows) {
      const rowNode = h("div", { class: "kb-row" });
      for (const button of row) {
        rowNode.append(renderInlineButton(chatId, msg, button));
      }
      box.append(rowNode);
    }
    return box;
  }

  function renderInlineButton(chatId, msg, button) {
    const common = { class: "kb-button", "data-testid": "inline-button" };
    if (typeof button.callback_data === "string") {
      const node = h("button", { ...common, type: "button", "data-callback-data": button.callback_data }, button.text);
      node.addEventListener("click", () => press(chatId, msg.message_id, button.callback_data, node));
      return node;
    }
    const link = button.url || (button.login_url && button.login_url.url);
    if (link) {
      const href = safeUrl(link);
      if (href) {
        return h("a", { ...common, href, target: "_blank", rel: "noopener noreferrer", "data-url": href },
          button.text, h("span", { class: "kb-link-mark", "aria-hidden": "true" }, " ↗"));
      }
    }
    if (button.copy_text && typeof button.copy_text.text === "string") {
      const node = h("button", { ...common, type: "button" }, button.text);
      node.addEventListener("click", async () => {
        try {
          await navigator.clipboard.writeText(button.copy_text.text);
          toast("Gekopieerd");
        } catch (_) {
          toast("Kopiëren lukte niet", "error");
        }
      });
      return node;
    }
    return h("button", { ...common, type: "button", disabled: true, title: "Kan niet in de demo" }, button.text);
  }

  async function press(chatId, messageId, data, node) {
    if (state.personId === null) return;
    node.disabled = true;
    node.classList.add("busy");
    node.setAttribute("aria-busy", "true");
    try {
      const res = await api("POST", `/chats/${chatId}/press`, {
        user_id: state.personId,
        message_id: messageId,
        data,
      });
      const answer = res && res.answer;
      if (answer && answer.text) {
        if (answer.show_alert) showAlert(answer.text);
        else toast(answer.text);
      }
    } catch (err) {
      toast(errorText(err), "error");
    } finally {
      if (node.isConnected) {
        node.disabled = false;
        node.classList.remove("busy");
        node.removeAttribute("aria-busy");
      }
    }
  }

  // ---------------------------------------------------------------- reply keyboard (ReplyKeyboardMarkup)

  function updateReplyKeyboard() {
    const box = $("reply-keyboard");
    box.replaceChildren();
    box.hidden = true;
    if (!state.view) return;
    const s = state.stores.get(state.view.chatId);
    if (!s) return;
    const chat = chatRecord(s.id);
    const candidates = [...s.messages.values()]
      .filter((m) => threadKeyOf(chat, m) === state.view.key && m.from && m.from.is_bot && m.reply_markup &&
        (m.reply_markup.keyboard || m.reply_markup.remove_keyboard))
      .sort((a, b) => b.message_id - a.message_id);
    const latest = candidates[0];
    if (!latest || !latest.reply_markup.keyboard) return;
    for (const row of latest.reply_markup.keyboard) {
      const rowNode = h("div", { class: "kb-row" });
      for (const button of row) {
        const text = typeof button === "string" ? button : button.text;
        rowNode.append(h("button", {
          type: "button",
          class: "kb-button",
          "data-testid": "reply-keyboard-button",
          onclick: () => sendPayload({ text }),
        }, text));
      }
      box.append(rowNode);
    }
    box.hidden = false;
  }

  // ---------------------------------------------------------------- sending

  function setReplyTo(messageId) {
    const previous = state.replyTo;
    state.replyTo = messageId;
    if (previous !== null) {
      const node = state.rendered.get(previous);
      if (node) node.classList.remove("replying");
    }
    const bar = $("reply-bar");
    if (messageId === null) {
      bar.hidden = true;
      return;
    }
    const s = state.view && state.stores.get(state.view.chatId);
    const msg = s && s.messages.get(messageId);
    $("reply-snippet").textContent = msg ? `${senderName(msg)}: ${snippet(msg)}` : `bericht ${messageId}`;
    bar.hidden = false;
    const node = state.rendered.get(messageId);
    if (node) node.classList.add("replying");
    $("message-input").focus();
  }

  async function sendPayload(payload) {
    if (!state.view || state.personId === null) return false;
    const { chatId, key } = state.view;
    const body = { user_id: state.personId, ...payload };
    if (key !== MAIN_THREAD) body.message_thread_id = Number(key);
    if (state.replyTo !== null) body.reply_to_message_id = state.replyTo;
    try {
      const res = await api("POST", `/chats/${chatId}/send`, body);
      setReplyTo(null);
      if (res && res.message) upsertMessage(store(chatId), res.message);
      scrollToBottom();
      renderSidebar();
      return true;
    } catch (err) {
      toast(errorText(err), "error");
      return false;
    }
  }

  async function sendText() {
    const input = $("message-input");
    const text = input.value;
    if (!text.trim()) return;
    input.value = "";
    autoGrow();
    const ok = await sendPayload({ text });
    // Give back what was typed, so nothing is lost when the sandbox refused it.
    if (!ok && !input.value) {
      input.value = text;
      autoGrow();
    }
    input.focus();
  }

  async function sendSample(kind) {
    const input = $("message-input");
    const payload = { kind };
    const caption = input.value.trim();
    // The typed text becomes the caption of a photo or document, as in Telegram.
    if (caption && (kind === "photo" || kind === "document")) payload.caption = caption;
    if (payload.caption) {
      input.value = "";
      autoGrow();
    }
    const ok = await sendPayload(payload);
    if (!ok && payload.caption && !input.value) input.value = payload.caption;
  }

  function autoGrow() {
    const input = $("message-input");
    input.style.height = "auto";
    input.style.height = `${Math.min(input.scrollHeight, 160)}px`;
  }

  // ---------------------------------------------------------------- wiring

  function wire() {
    $("person-picker").addEventListener("change", (event) => {
      selectPerson(event.target.value);
    });
    $("new-person-form").addEventListener("submit", async (event) => {
      event.preventDefault();
      const input = $("new-person-name");
      const name = input.value.trim();
      if (!name) return;
      const submit = $("new-person-submit");
      submit.disabled = true;
      try {
        await createPerson(name);
        input.value = "";
        $("message-input").focus();
      } catch (err) {
        toast(errorText(err), "error");
      } finally {
        submit.disabled = false;
      }
    });
    $("composer").addEventListener("submit", (event) => {
      event.preventDefault();
      sendText();
    });
    const input = $("message-input");
    input.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        sendText();
      } else if (event.key === "Escape" && state.replyTo !== null) {
        setReplyTo(null);
      }
    });
    input.addEventListener("input", autoGrow);
    for (const button of document.querySelectorAll(".btn-attach")) {
      button.addEventListener("click", () => sendSample(button.dataset.kind));
    }
    $("reply-cancel").addEventListener("click", () => {
      setReplyTo(null);
      $("message-input").focus();
    });
    $("back-button").addEventListener("click", () => {
      document.body.classList.remove("show-chat");
      document.body.classList.add("show-sidebar");
    });
    document.addEventListener("visibilitychange", () => {
      if (!document.hidden && state.view) {
        store(state.view.chatId).unread.delete(state.view.key);
        markSeen(state.view.chatId, state.view.key);
        renderSidebar();
      }
    });
    document.querySelector(".messages-wrap").addEventListener("scroll", onScroll, { passive: true });
    document.addEventListener("click", (event) => {
      if (!event.target.closest('[data-testid="reaction-picker"]')) closeReactionPicker();
    });
    document.addEventListener("keydown", (event) => {
      if (event.key === "Escape") closeReactionPicker();
    });
    $("new-messages").addEventListener("click", jumpToNew);
  }

  async function start() {
    wire();
    renderView();
    let backoff = 500;
    for (;;) {
      try {
        await loadInfoAndPeople();
        setOnline(true);
        break;
      } catch (err) {
        setOnline(false);
        await sleep(backoff);
        backoff = Math.min(backoff * 2, 5000);
      }
    }
    let remembered = null;
    try {
      remembered = localStorage.getItem("coachbot-demo-person");
    } catch (_) {
      remembered = null;
    }
    const known = remembered !== null &&
      (state.people.some((p) => String(p.id) === remembered) || isCoach(remembered));
    if (known) await selectPerson(remembered);

    // People and coaches can be added by others (another tab, the demo itself): keep the list fresh.
    setInterval(async () => {
      try {
        await loadInfoAndPeople();
      } catch (_) {
        setOnline(false);
      }
    }, PEOPLE_REFRESH_MS);
    setInterval(() => {
      if (state.personId !== null) refreshChats();
    }, CHATS_REFRESH_MS);
  }

  document.addEventListener("DOMContentLoaded", start);
})();
