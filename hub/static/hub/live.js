// The hub's live connection: catches up after a drop, shows when it is offline, and
// refreshes the parts of the page that show what changed (through the normal views,
// which check permissions again; events themselves carry only ids and states).
(function () {
  "use strict";
  var body = document.body;
  if (!body || body.dataset.lastEventId === undefined || !("WebSocket" in window)) {
    return;
  }
  var lastEventId = Number(body.dataset.lastEventId) || 0;
  var attempt = 0;
  var pending = false;
  var mainChanged = false;
  var partsChanged = {};
  var timer = null;
  var status = document.getElementById("live-status");
  var wasReady = false;
  // 4401: not logged in; 4403: access ended. Retrying would not help.
  var FINAL_CLOSE_CODES = [4401, 4403];

  function setOffline(offline) {
    if (status) {
      status.hidden = !offline;
    }
    body.classList.toggle("is-offline", offline);
  }

  function socketUrl() {
    return (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws/";
  }

  function topicsOfPage() {
    var main = document.getElementById("main");
    return main && main.dataset.live ? main.dataset.live.split(/\s+/) : [];
  }

  // Parts of a page that follow other topics than the page itself, such as a comment thread:
  // <div id="..." data-live-part="comment">. Only they are swapped, the rest of the page stays.
  function partsFor(kind) {
    var ids = [];
    document.querySelectorAll("#main [data-live-part][id]").forEach(function (part) {
      if (part.dataset.livePart.split(/\s+/).indexOf(kind) !== -1) {
        ids.push(part.id);
      }
    });
    return ids;
  }

  function editing() {
    var active = document.activeElement;
    var main = document.getElementById("main");
    return Boolean(active && main && main.contains(active) && /^(INPUT|TEXTAREA|SELECT)$/.test(active.tagName));
  }

  function swap(id, fresh) {
    var old = document.getElementById(id);
    var replacement = fresh.getElementById(id);
    if (old && replacement) {
      old.replaceWith(replacement);
      if (window.htmx) {
        window.htmx.process(replacement);
      }
    }
  }

  // Refetch the page as a normal request and swap the parts that can change.
  function refresh() {
    timer = null;
    if (editing()) {
      pending = true;  // never take away what someone is typing; refresh when they leave the field
      return;
    }
    pending = false;
    var swapMain = mainChanged;
    var parts = Object.keys(partsChanged);
    mainChanged = false;
    partsChanged = {};
    // X-Hub-Refresh: a refresh nobody asked for does not count as activity for the idle timeout.
    fetch(location.href, { credentials: "same-origin", headers: { Accept: "text/html", "X-Hub-Refresh": "live" } })
      .then(function (response) {
        return response.ok ? response.text() : Promise.reject(response.status);
      })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html");
        swap("nav-inbox", fresh);
        swap("nav-notifications", fresh);
        if (swapMain) {
          swap("main", fresh);
        } else {
          parts.forEach(function (id) {
            swap(id, fresh);
          });
        }
      })
      .catch(function () {
        pending = true;
        mainChanged = mainChanged || swapMain;
        parts.forEach(function (id) {
          partsChanged[id] = true;
        });
      });
  }

  function onEvent(event) {
    lastEventId = Math.max(lastEventId, event.id);
    body.dispatchEvent(new CustomEvent("hub:event", { detail: event }));
    var topics = topicsOfPage();
    var kind = String(event.target && event.target.type).split(".").pop();
    if (topics.indexOf("*") !== -1 || topics.indexOf(kind) !== -1) {
      mainChanged = true;
    } else {
      partsFor(kind).forEach(function (id) {
        partsChanged[id] = true;
      });
    }
    if (timer === null) {
      timer = setTimeout(refresh, 250);  // a burst of events becomes one refresh
    }
  }

  function connect() {
    var socket = new WebSocket(socketUrl());
    socket.addEventListener("open", function () {
      attempt = 0;
      socket.send(JSON.stringify({ type: "hello", last_event_id: lastEventId }));
    });
    socket.addEventListener("message", function (message) {
      var data = JSON.parse(message.data);
      if (data.type === "event") {
        onEvent(data.event);
      } else if (data.type === "ready") {
        lastEventId = Math.max(lastEventId, data.last_event_id);
        body.dataset.liveReady = "true";
        wasReady = true;
        setOffline(false);
      } else if (data.type === "reload") {
        location.reload();
      }
    });
    socket.addEventListener("close", function (close) {
      body.dataset.liveReady = "false";
      if (FINAL_CLOSE_CODES.indexOf(close.code) !== -1) {
        setOffline(false);
        // The session ended (idle or absolute limit, logout elsewhere) or access was withdrawn while
        // the page was open: reload, so that the login page or the refusal replaces the personal data
        // on screen. Not while someone types (the text would go), and not for a socket refused at
        // once (a page that may not have one, such as the two-factor set-up), which would loop.
        if (wasReady && !editing()) {
          location.reload();
        }
        return;
      }
      setOffline(true);
      var delay = Math.min(30000, 1000 * Math.pow(2, attempt)) * (0.5 + Math.random() / 2);
      attempt += 1;
      setTimeout(connect, delay);
    });
  }

  document.addEventListener("focusout", function () {
    if (pending) {
      setTimeout(refresh, 0);
    }
  });
  connect();
})();
