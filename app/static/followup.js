/* Followup's only script: a JSON form encoder for htmx, time zones, copy buttons, the
   mailbox provider picker.
   Served from app/static; no build step, no inline script (the CSP forbids it). */
(function () {
  "use strict";

  // The UTC offset (minutes) of an IANA time zone at a given instant.
  function offsetAt(instantMs, timeZone) {
    var parts = new Intl.DateTimeFormat("en-US", {
      timeZone: timeZone, hourCycle: "h23", year: "numeric", month: "2-digit",
      day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit"
    }).formatToParts(new Date(instantMs));
    var v = {};
    parts.forEach(function (p) { v[p.type] = p.value; });
    var asUtc = Date.UTC(+v.year, +v.month - 1, +v.day, +v.hour, +v.minute, +v.second);
    return Math.round((asUtc - instantMs) / 60000);
  }

  // "2026-12-01T15:00" in `timeZone` -> "2026-12-01T15:00:00+01:00". A wall time skipped
  // by a DST change moves forward, as the server's own rules do.
  function withOffset(local, timeZone) {
    var m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(local);
    if (!m) { return local; }
    var wall = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5]);
    var offset = offsetAt(wall - offsetAt(wall, timeZone) * 60000, timeZone);
    var sign = offset < 0 ? "-" : "+";
    var abs = Math.abs(offset);
    var pad = function (n) { return (n < 10 ? "0" : "") + n; };
    return m[1] + "-" + m[2] + "-" + m[3] + "T" + m[4] + ":" + m[5] + ":00" + sign +
      pad(Math.floor(abs / 60)) + ":" + pad(abs % 60);
  }

  // Put `value` at a dotted path ("people.3.name") into `target`.
  function assign(target, path, value) {
    var keys = path.split(".");
    var node = target;
    for (var i = 0; i < keys.length - 1; i++) {
      var child = node[keys[i]];
      if (child === null || typeof child !== "object" || Array.isArray(child)) {
        node[keys[i]] = {};
      }
      node = node[keys[i]];
    }
    node[keys[keys.length - 1]] = value;
  }

  // Objects keyed only by numbers become lists, in the numbers' order (rows may have gaps).
  function listify(node) {
    if (node === null || typeof node !== "object") { return node; }
    var keys = Object.keys(node);
    keys.forEach(function (k) { node[k] = listify(node[k]); });
    if (keys.length && keys.every(function (k) { return /^\d+$/.test(k); })) {
      return keys.sort(function (a, b) { return a - b; }).map(function (k) { return node[k]; });
    }
    return node;
  }

  function typed(input, raw) {
    var kind = input ? input.getAttribute("data-json") : null;
    if (kind === "keep") { return raw; }
    if (kind === "list") { return []; }  // a marker: the list is sent even when empty
    if (raw === "") { return null; }
    // A template left as the built-in wording it starts from stays the default (null).
    var builtIn = input ? input.getAttribute("data-default") : null;
    var lf = function (text) { return text.replace(/\r\n?/g, "\n"); };
    if (builtIn !== null && lf(raw) === lf(builtIn)) { return null; }
    if (kind === "int") { return /^-?\d+$/.test(raw) ? parseInt(raw, 10) : raw; }
    if (kind === "bool") { return raw === "true"; }
    if (input && input.type === "datetime-local" && input.dataset.tz) {
      return withOffset(raw, input.dataset.tz);
    }
    return raw;
  }

  htmx.defineExtension("json-form", {
    onEvent: function (name, evt) {
      if (name === "htmx:configRequest") {
        evt.detail.headers["Content-Type"] = "application/json";
      }
    },
    encodeParameters: function (xhr, parameters, elt) {
      xhr.overrideMimeType("text/json");
      var form = elt.closest("form") || elt;
      var body = {};
      // A row nobody typed in (the person row the form starts with) is not sent.
      var blank = {};
      Array.prototype.forEach.call(form.querySelectorAll("[data-row]"), function (row) {
        var typed = row.querySelectorAll("input:not([type=hidden]), textarea");
        var kept = row.querySelector("input[type=hidden][name$='.id']");
        var empty = !kept && Array.prototype.every.call(typed, function (f) { return !f.value.trim(); });
        if (empty) {
          Array.prototype.forEach.call(row.querySelectorAll("[name]"), function (f) { blank[f.name] = true; });
        }
      });
      parameters.forEach(function (raw, name) {
        if (name === "csrf_token" || blank[name]) { return; }
        var inputs = form.querySelectorAll('[name="' + name.replace(/"/g, '\\"') + '"]');
        var input = inputs.length ? inputs[inputs.length - 1] : null;
        assign(body, name, typed(input, raw));
      });
      body = listify(body);
      var extra = elt.getAttribute("data-json-body");
      if (extra) { Object.assign(body, JSON.parse(extra)); }
      return JSON.stringify(body);
    }
  });

  // Rows of a list with data-rows="people" are numbered by position, so that the names
  // (people.2.name) and error slots (error-people-2-name) match the server's error locations.
  var NUMBERED = ["name", "id", "for", "aria-describedby", "aria-labelledby"];
  function renumber(list) {
    var prefix = list && list.getAttribute("data-rows");
    if (!prefix) { return; }
    var pattern = new RegExp("(^|[\\s-])(" + prefix + ")([.-])[^.\\s-]+(?=[.-])", "g");
    Array.prototype.forEach.call(list.querySelectorAll(":scope > [data-row]"), function (row, i) {
      var elements = [row].concat(Array.prototype.slice.call(row.querySelectorAll("*")));
      elements.forEach(function (element) {
        NUMBERED.forEach(function (attribute) {
          var value = element.getAttribute(attribute);
          if (value) {
            element.setAttribute(attribute, value.replace(pattern, "$1$2$3" + i));
          }
        });
      });
    });
  }

  // In the draft editor, Copy and Open in mail take the draft as it is typed, saved or not.
  function typedDraft() {
    var subject = document.getElementById("subject");
    var body = document.getElementById("body");
    return subject && body ? { subject: subject.value, body: body.value } : null;
  }

  document.addEventListener("click", function (event) {
    var mail = event.target.closest("a[data-mailto-to]");
    var draft = mail ? typedDraft() : null;
    if (mail && draft) {
      var crlf = draft.body.replace(/\r\n|\r|\n/g, "\r\n");
      mail.href = "mailto:" + mail.getAttribute("data-mailto-to") +
        "?subject=" + encodeURIComponent(draft.subject.replace(/[\r\n]+/g, " ")) +
        "&body=" + encodeURIComponent(crlf);
    }
    var copy = event.target.closest("[data-copy]");
    var typed = copy && copy.hasAttribute("data-copy-draft") ? typedDraft() : null;
    if (typed && navigator.clipboard) {
      var button = copy;
      navigator.clipboard.writeText("Subject: " + typed.subject + "\n\n" + typed.body)
        .then(function () { button.textContent = "Copied"; });
      copy = null;
    }
    // A Today card keeps its draft once, in its mailto link: Copy reads it back from there
    // (or from its own data-copy-mailto, on a card with no address and so no link).
    var fromMail = event.target.closest("[data-copy-mailto]");
    var link = fromMail && fromMail.closest("li").querySelector('a[href^="mailto:"]');
    var href = fromMail && (fromMail.getAttribute("data-copy-mailto") ||
      (link && link.getAttribute("href")));
    if (href && navigator.clipboard) {
      var query = href.split("?")[1] || "";
      var subject = decodeURIComponent((/(?:^|&)subject=([^&]*)/.exec(query) || ["", ""])[1]);
      var text = decodeURIComponent((/(?:^|&)body=([^&]*)/.exec(query) || ["", ""])[1]);
      navigator.clipboard.writeText("Subject: " + subject + "\n\n" + text.replace(/\r\n/g, "\n"))
        .then(function () {
          fromMail.textContent = "Copied";
          var named = fromMail.getAttribute("aria-label");
          if (named) { fromMail.setAttribute("aria-label", named.replace(/^Copy\b/, "Copied")); }
        });
    }
    if (copy) {
      var source = document.getElementById(copy.getAttribute("data-copy"));
      if (source && navigator.clipboard) {
        navigator.clipboard.writeText(source.value !== undefined ? source.value : source.textContent)
          .then(function () { copy.textContent = "Copied"; });
      }
    }
    var remove = event.target.closest("[data-remove-row]");
    if (remove) {
      var row = remove.closest("[data-row]");
      if (row) {
        var from = row.parentElement;
        row.remove();
        renumber(from);
        // Keep keyboard focus in the list: on the button that adds a row, if there is one.
        var adder = from && from.id &&
          document.querySelector('[data-add-row][data-into="' + from.id + '"]');
        if (adder) { adder.focus(); }
      }
    }
    var add = event.target.closest("[data-add-row]");
    if (add) {
      var template = document.getElementById(add.getAttribute("data-add-row"));
      var list = document.getElementById(add.getAttribute("data-into"));
      if (template && list) {
        var index = Date.now();
        var html = template.innerHTML.replace(/__index__/g, String(index));
        list.insertAdjacentHTML("beforeend", html);
        renumber(list);
        var first = list.lastElementChild.querySelector("input:not([type=hidden])");
        if (first) { first.focus(); }
      }
    }
  });

  // A Today card's "Snooze to a chosen day" gets its form when first opened, from the one
  // <template id="snooze-form"> on the page ("toggle" does not bubble: listen in capture).
  document.addEventListener("toggle", function (event) {
    var details = event.target;
    var id = details.getAttribute && details.getAttribute("data-followup");
    var template = document.getElementById("snooze-form");
    if (!id || !details.open || details.querySelector("form") || !template) { return; }
    var form = template.content.firstElementChild.cloneNode(true);
    form.setAttribute("hx-patch", "/api/v1/followups/" + id);
    form.querySelector("label").setAttribute("for", "snooze-" + id);
    form.querySelector("input").id = "snooze-" + id;
    form.querySelector("button").setAttribute(
      "aria-label", "Snooze " + details.getAttribute("data-what") + " until the chosen day");
    details.appendChild(form);
    htmx.process(form);
  }, true);

  // Each attempt starts clean: messages left from the last one would point at fixed fields.
  document.addEventListener("htmx:beforeRequest", function (event) {
    var form = event.detail && event.detail.elt;
    if (!form || form.tagName !== "FORM") { return; }
    Array.prototype.forEach.call(form.querySelectorAll(".field-error"), function (slot) {
      slot.textContent = "";
    });
    var alerts = document.getElementById("alerts");
    if (alerts) { alerts.textContent = ""; }
  });

  // After an action re-renders a list, keyboard focus goes to its heading, not to <body>.
  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail && event.detail.target;
    if (target && !document.body.contains(target)) {
      var heading = document.querySelector("#today-title, #editor-title, #interview h1");
      if (heading) { heading.focus({ preventScroll: true }); }
    }
  });

  // The mailbox's provider picker fills in the servers (the form still sends what is typed).
  document.addEventListener("change", function (event) {
    var picker = event.target.closest && event.target.closest("select[data-provider-picker]");
    var option = picker && picker.selectedOptions[0];
    var form = picker && picker.closest("form");
    if (!option || !option.value || !form) { return; }
    ["imap", "smtp"].forEach(function (side) {
      ["host", "port", "security"].forEach(function (part) {
        var field = form.querySelector('[name="' + side + "." + part + '"]');
        var value = option.getAttribute("data-" + side + "-" + part);
        if (field && value !== null) { field.value = value; }
      });
    });
  });

  // Live preview of a draft: the preview pane mirrors the editor as plain text.
  document.addEventListener("input", function (event) {
    var target = event.target.getAttribute && event.target.getAttribute("data-preview");
    if (target) {
      var pane = document.getElementById(target);
      if (pane) { pane.textContent = event.target.value; }
    }
  });

  // The zone picker takes a city as typed ("new york" -> America/New_York), from the labels
  // of its list; anything else is left for the server to refuse with a hint.
  document.addEventListener("change", function (event) {
    var input = event.target;
    if (!input.hasAttribute || !input.hasAttribute("data-zone-picker") || !input.list) { return; }
    var squeeze = function (text) {
      return text.replace(/[_/]/g, " ").replace(/\s+/g, " ").trim().toLowerCase();
    };
    var typed = squeeze(input.value);
    var options = Array.prototype.slice.call(input.list.options);
    if (!typed || options.some(function (o) { return o.value === input.value; })) { return; }
    var match = options.filter(function (o) { return squeeze(o.value) === typed; })[0] ||
      options.filter(function (o) { return o.label && squeeze(o.label) === typed; })[0];
    if (match) { input.value = match.value; }
  });

  // Sign-up and sign-in send the browser's time zone: a new account starts in it.
  var zone = null;
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone || null; } catch (e) { zone = null; }
  if (zone) {
    Array.prototype.forEach.call(document.querySelectorAll("input[data-browser-timezone]"),
      function (field) { field.value = zone; });
    Array.prototype.forEach.call(document.querySelectorAll("[data-browser-timezone-shown]"),
      function (shown) {
        shown.textContent = zone;
        var line = shown.closest("[hidden]");
        if (line) { line.hidden = false; }
      });
  }
})();
