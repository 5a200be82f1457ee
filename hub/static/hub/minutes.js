// The live minutes editor: keeps the writer's text through a refused save, and tells them when
// someone else saved an item they have open. The editor works without this file (each item has
// its own save button); htmx saves as they write.
(function () {
  "use strict";

  // A conflict (409) and a refused text (422) answer with the item's form, which must replace the
  // old one instead of counting as a failed request (hub.js reloads the page after those).
  var SWAPPED_STATUSES = [409, 422];
  // Text typed while a save was on its way, put back after the item was replaced.
  var typed = {};
  // The newest version another writer saved, per item, until it can be compared with ours.
  var newer = {};

  function formOf(element) {
    return element && element.closest ? element.closest("form[data-minutes-item]") : null;
  }

  function textOf(container) {
    return container ? container.querySelector("textarea[name=minutes]") : null;
  }

  document.addEventListener("htmx:beforeSwap", function (event) {
    var form = formOf(event.detail.elt);
    if (!form) {
      return;
    }
    if (SWAPPED_STATUSES.indexOf(event.detail.xhr.status) !== -1) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
    var id = form.dataset.minutesItem;
    var target = event.detail.target;
    var area = textOf(form);
    if (area && target && target.id === "minutes-item-" + id) {
      typed[id] = area.value;
    }
  });

  document.addEventListener("htmx:load", function (event) {
    var container = event.target;
    if (!container.dataset || container.dataset.minutesContainer === undefined) {
      return;
    }
    var id = container.dataset.minutesContainer;
    if (!(id in typed)) {
      return;
    }
    var text = typed[id];
    delete typed[id];
    var area = textOf(container);
    if (!area || area.value === text) {
      return;
    }
    area.value = text;
    // Back in the ordinary editor: what was typed meanwhile is saved like any other change.
    if (area.hasAttribute("hx-post") && window.htmx) {
      window.htmx.trigger(area, "change");
    }
  });

  function busy(form) {
    return form.classList.contains("htmx-request") || Boolean(form.querySelector(".htmx-request"));
  }

  function compare(id) {
    var form = document.getElementById("minutes-form-" + id);
    var version = newer[id];
    if (!form || version === undefined) {
      delete newer[id];
      return;
    }
    if (busy(form)) {
      // Our own save may be the one announced: wait for its answer, which brings its version.
      setTimeout(function () {
        compare(id);
      }, 300);
      return;
    }
    delete newer[id];
    var current = document.getElementById("minutes-version-" + id);
    var notice = document.getElementById("minutes-notice-" + id);
    if (current && notice && Number(current.value) < version) {
      notice.textContent = notice.dataset.message || "";
    }
  }

  document.body.addEventListener("hub:event", function (event) {
    var detail = event.detail || {};
    var payload = detail.payload || {};
    if (detail.verb !== "agenda_item.minutes_updated" || payload.item === undefined) {
      return;
    }
    var id = String(payload.item);
    if (!document.getElementById("minutes-form-" + id)) {
      return;
    }
    newer[id] = Math.max(newer[id] || 0, Number(payload.version) || 0);
    setTimeout(function () {
      compare(id);
    }, 300);
  });
})();
