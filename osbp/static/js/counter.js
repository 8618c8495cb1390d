/* Counter page (templates/queues/counter.html): live for the officers seated at a joint counter, and quick to use
 * from the keyboard. docs/queues.md, "The counter page", describes it.
 *
 * - Live: a Socket.IO event of this station (its room: the partner's call and decision) or of the post (the line)
 *   fetches the page's changing parts from data-live-url; a part whose signature changed is put in place. What the
 *   officer typed in a part that is replaced is put back (same form, same field), and the focus stays where it was.
 * - A soft chime and a line of text when a ticket joins the line of an idle counter.
 * - Shortcuts: each element with data-shortcut="F2" is clicked by that key; none fires while typing in a text field
 *   (except refer and refuse in their reason box); refer and refuse never go without a reason: the key asks for it.
 * - "Close this counter" asks in a dialog before the form is sent (without JavaScript: a confirmation page).
 */
(function () {
  "use strict";

  var counter = document.getElementById("counter");
  if (!counter) return;
  var body = document.body;
  var news = document.getElementById("counter-news");
  var status = document.getElementById("live-status");
  var waiting = Number(counter.dataset.waiting || 0);
  var pending = null;
  var busy = false;
  var again = false;
  var sequence = new OsbpLive.Sequence(OsbpLive.number(counter.dataset.seq)); // what the page shows (live-sync.js)

  body.classList.add("with-shortcuts"); // the <kbd> hints show only where the keys work

  // -- live parts ----------------------------------------------------------------------------------------------

  function fieldKey(field) {
    var form = field.form;
    return (form ? form.getAttribute("action") || "" : "") + "|" + field.name;
  }

  function isTyped(field) {
    if (!field.name || field.type === "hidden" || field.type === "submit" || field.type === "button") return false;
    if (field.tagName === "SELECT") {
      // the page's choice: the option marked selected, else the first one
      var initial = field.options.length ? field.options[0].value : "";
      for (var i = 0; i < field.options.length; i += 1) {
        if (field.options[i].defaultSelected) initial = field.options[i].value;
      }
      return field.value !== initial;
    }
    if (field.type === "checkbox" || field.type === "radio") return field.checked !== field.defaultChecked;
    return field.value !== field.defaultValue;
  }

  // What the officer did inside a part: typed values, open <details>, the focused field and its caret.
  function keep(part) {
    var kept = { values: {}, open: [], focus: null };
    part.querySelectorAll("input, select, textarea").forEach(function (field) {
      if (!isTyped(field) && !(field.form && field.form.hasAttribute("data-keep") && field.type !== "hidden")) return;
      var value = field.tagName === "SELECT" ? field.value : field.type === "checkbox" || field.type === "radio" ? field.checked : field.value;
      kept.values[fieldKey(field) + (field.type === "radio" ? "=" + field.value : "")] = value;
    });
    part.querySelectorAll("details[open]").forEach(function (details) {
      kept.open.push(details.className);
    });
    var active = document.activeElement;
    if (active && active !== body && part.contains(active)) {
      kept.focus = { key: active.id ? "#" + active.id : fieldKey(active) };
      try {
        kept.focus.start = active.selectionStart;
        kept.focus.end = active.selectionEnd;
      } catch (error) {
        // not a text field
      }
    }
    return kept;
  }

  function restore(part, kept) {
    part.querySelectorAll("input, select, textarea").forEach(function (field) {
      if (!field.name) return;
      var key = fieldKey(field) + (field.type === "radio" ? "=" + field.value : "");
      if (!Object.prototype.hasOwnProperty.call(kept.values, key)) return;
      if (field.type === "checkbox" || field.type === "radio") field.checked = kept.values[key];
      else field.value = kept.values[key];
    });
    part.querySelectorAll("details").forEach(function (details) {
      if (kept.open.indexOf(details.className) >= 0) details.open = true;
    });
    if (!kept.focus) return;
    var target = null;
    if (kept.focus.key.charAt(0) === "#") target = document.getElementById(kept.focus.key.slice(1));
    else {
      part.querySelectorAll("input, select, textarea, button").forEach(function (field) {
        if (!target && field.name && fieldKey(field) === kept.focus.key) target = field;
      });
    }
    if (!target) return;
    target.focus();
    try {
      if (kept.focus.start !== null && kept.focus.start !== undefined) {
        target.setSelectionRange(kept.focus.start, kept.focus.end);
      }
    } catch (error) {
      // not a text field
    }
  }

  function apply(state) {
    if (!sequence.snapshot(state.seq)) return; // older than what is shown (asked again below while behind)
    Object.keys(state.parts).forEach(function (name) {
      var part = counter.querySelector('[data-part="' + name + '"]');
      var fresh = state.parts[name];
      if (!part || part.dataset.sig === fresh.sig) return;
      var kept = keep(part);
      part.innerHTML = fresh.html; // our own templates, autoescaped on the server
      part.dataset.sig = fresh.sig;
      restore(part, kept);
    });
    counter.classList.toggle("idle", state.idle);
    counter.querySelectorAll('section[data-part="ticket"], section[data-part="action"]').forEach(function (section) {
      section.hidden = state.idle;
    });
    counter.dataset.ticket = state.ticket === null ? "" : String(state.ticket);
    arrivals(state);
    body.dataset.refreshed = String(Number(body.dataset.refreshed || 0) + 1);
  }

  // A ticket joined the line while nobody is at this counter: say it and chime (softly).
  function arrivals(state) {
    if (state.idle && state.can_call && state.waiting > waiting) {
      news.textContent = news.dataset.arrived;
      news.hidden = false;
      counter.classList.remove("arrived");
      void counter.offsetWidth; // restart the animation
      counter.classList.add("arrived");
      chime();
    } else if (!state.idle || state.waiting === 0) {
      news.hidden = true;
      news.textContent = "";
      counter.classList.remove("arrived");
    }
    waiting = state.waiting;
    counter.dataset.waiting = String(waiting);
  }

  function refresh() {
    pending = null;
    if (busy) {
      again = true;
      return;
    }
    busy = true;
    var url = counter.dataset.liveUrl + "?shown=" + encodeURIComponent(counter.dataset.ticket || "");
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (response.redirected || response.status === 401 || response.status === 403 || response.status === 409) {
          window.location.reload(); // logged out, or no longer seated here: the page says where to go
          throw new Error(String(response.status));
        }
        if (!response.ok) throw new Error(String(response.status));
        return response.json();
      })
      .then(apply)
      .catch(function () {})
      .then(function () {
        busy = false;
        if (again || sequence.behind) {
          again = false;
          later();
        }
      });
  }

  function later(ms) {
    if (!pending) pending = setTimeout(refresh, ms === undefined ? 150 : ms);
  }

  // -- the chime (Web Audio API): two soft tones, A5 then E5 ---------------------------------------------------

  var audio = null;

  function audioContext() {
    if (!audio) {
      var Context = window.AudioContext || window.webkitAudioContext;
      if (!Context) return null;
      audio = new Context();
    }
    return audio;
  }

  function tone(context, frequency, start, length) {
    var oscillator = context.createOscillator();
    var gain = context.createGain();
    oscillator.type = "sine";
    oscillator.frequency.value = frequency;
    gain.gain.setValueAtTime(0.0001, start);
    gain.gain.exponentialRampToValueAtTime(0.15, start + 0.03);
    gain.gain.exponentialRampToValueAtTime(0.0001, start + length);
    oscillator.connect(gain);
    gain.connect(context.destination);
    oscillator.start(start);
    oscillator.stop(start + length + 0.05);
  }

  function chime() {
    body.dataset.chimes = String(Number(body.dataset.chimes || 0) + 1);
    var context = audioContext();
    if (!context || context.state !== "running") return;
    var at = context.currentTime + 0.05;
    tone(context, 880, at, 0.5);
    tone(context, 659.25, at + 0.25, 0.8);
    body.dataset.chimesPlayed = String(Number(body.dataset.chimesPlayed || 0) + 1);
  }

  // Browsers start sound only after the person touched the page: the first click or key unlocks it.
  function unlockSound() {
    var context = audioContext();
    if (context && context.state !== "running") context.resume().catch(function () {});
  }
  document.addEventListener("pointerdown", unlockSound);
  document.addEventListener("keydown", unlockSound);
  if (audioContext() && audio.state !== "running") audio.resume().catch(function () {});

  // -- shortcuts -------------------------------------------------------------------------------------------------

  var TEXT_TYPES = ["text", "search", "email", "number", "tel", "url", "password", "date"];

  function typingIn(element) {
    if (!element || element === body) return false;
    if (element.isContentEditable || element.tagName === "TEXTAREA" || element.tagName === "SELECT") return true;
    return element.tagName === "INPUT" && TEXT_TYPES.indexOf(element.type || "text") >= 0;
  }

  function shortcutTarget(key) {
    var found = null;
    counter.querySelectorAll("[data-shortcut]").forEach(function (element) {
      if (!found && element.dataset.shortcut === key && !element.closest("[hidden]")) found = element;
    });
    return found;
  }

  function askForReason(button, box) {
    var hint = document.getElementById(box.getAttribute("aria-describedby"));
    if (hint) hint.textContent = button.dataset.ask;
    box.focus();
  }

  document.addEventListener("keydown", function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey || event.shiftKey || event.repeat) return;
    if (document.querySelector("dialog[open]")) return;
    var button = shortcutTarget(event.key);
    if (!button) return;
    var box = button.dataset.reason ? document.getElementById(button.dataset.reason) : null;
    var typing = typingIn(event.target);
    if (typing && !(box && event.target === box)) return; // typing: the keys are the field's
    event.preventDefault();
    if (button.disabled) return;
    if (box && !box.value.trim()) {
      askForReason(button, box); // never refer or refuse without a reason
      return;
    }
    button.click();
  });

  // -- "Close this counter": a dialog asks first -----------------------------------------------------------------

  var dialog = document.getElementById("close-dialog");
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.dataset || form.dataset.confirm !== "close-dialog" || !dialog || !dialog.showModal) return;
    event.preventDefault();
    dialog.showModal();
  });
  document.addEventListener("click", function (event) {
    var closer = event.target.closest ? event.target.closest("[data-close-dialog]") : null;
    if (closer) document.getElementById(closer.dataset.closeDialog).close();
  });

  // -- a field with a list (nationality): the name of the code typed or picked, under the field -------------------

  document.addEventListener("input", function (event) {
    var field = event.target;
    if (!field.list || !field.getAttribute("aria-describedby")) return;
    var note = document.getElementById(field.getAttribute("aria-describedby").split(" ")[0]);
    if (!note || !note.classList.contains("field-note")) return;
    var typed = field.value.trim().toUpperCase();
    var name = "";
    for (var i = 0; i < field.list.options.length; i += 1) {
      if (field.list.options[i].value === typed) name = field.list.options[i].label;
    }
    note.textContent = name;
  });

  // -- Socket.IO -------------------------------------------------------------------------------------------------

  // Events that change something on this page: the partner's call and decision, the line, the station's state.
  var RELEVANT = [
    "ticket.issued",
    "ticket.queued",
    "ticket.called",
    "ticket.recalled",
    "ticket.started",
    "ticket.transferred",
    "ticket.returned",
    "ticket.no_show",
    "ticket.priority",
    "ticket.done",
    "step.decided",
    "identity.recorded",
    "station.changed",
  ];

  var socket = io();
  socket.on("connect", function () {
    status.textContent = status.dataset.connected;
    body.dataset.live = "yes";
    sequence.want();
    later(0); // anything missed while the socket was down
  });
  socket.on("resync", function () {
    sequence.want(); // the message queue came back: events may have been lost
    later(Math.floor(Math.random() * OsbpLive.SPREAD_MS));
  });
  socket.on("disconnect", function () {
    status.textContent = status.dataset.disconnected;
    body.dataset.live = "no";
  });
  socket.on("event", function (message) {
    if (message.type === "session.revoked") {
      window.location.reload();
      return;
    }
    var verdict = sequence.event(message.seq);
    if (verdict === "gap" || (verdict === "apply" && RELEVANT.indexOf(message.type) >= 0)) later();
  });
  setInterval(function () {
    later(0);
  }, 30000);
})();
