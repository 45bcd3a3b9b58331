/* The public status page, live: every 30 s it reads summary.json (the page's data-json address, the
 * same relative address in the static snapshot) and updates the states, figures, bars and posts in
 * place (textContent only). A component whose state changed is announced in the aria-live region.
 * Without JavaScript the server-rendered page is complete. */
(function () {
  "use strict";
  var main = document.querySelector("[data-status-page]");
  if (!main || !window.fetch) return;
  var url = main.getAttribute("data-json");
  var lang = main.getAttribute("data-lang") || "en";
  var messages = document.getElementById("status-messages");
  var EVERY = 30000;

  function msg(key) {
    var node = messages && messages.content.querySelector('[data-msg="' + key + '"]');
    return node ? node.textContent : "";
  }
  function stateLabel(state) {
    var node = messages && messages.content.querySelector('[data-state-label="' + state + '"]');
    return node ? node.textContent : state;
  }
  function postLabel(state) {
    var node = messages && messages.content.querySelector('[data-post-label="' + state + '"]');
    return node ? node.textContent : state;
  }
  function percent(fraction) {
    if (fraction === null || fraction === undefined) return "\u2014";
    var value = Math.floor(fraction * 1000000 + 1e-6) / 10000;
    return value.toFixed(4).replace(/0+$/, "").replace(/\.$/, "") + "%";
  }
  function when(iso) {
    if (!iso) return "";
    try {
      return new Intl.DateTimeFormat(lang, {
        year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", timeZoneName: "short",
      }).format(new Date(iso));
    } catch (e) {
      return iso;
    }
  }
  function announce(text) {
    var live = document.querySelector("[data-live]");
    if (live && text) live.textContent = text;
  }

  function updateComponent(box, data) {
    var state = box.querySelector("[data-state]");
    if (state && state.getAttribute("data-state-value") !== data.state) {
      var previous = state.getAttribute("data-state-value");
      state.setAttribute("data-state-value", data.state);
      state.className = "status-state state-" + data.state;
      state.textContent = stateLabel(data.state);
      if (previous) {
        var name = box.querySelector("h3");
        announce(msg("changed").replace("{name}", name ? name.textContent : data.name).replace("{state}", stateLabel(data.state)));
      }
    }
    var periods = data.figures || {};
    box.querySelectorAll("tr[data-period]").forEach(function (row) {
      var figures = periods[row.getAttribute("data-period")];
      if (!figures) return;
      ["uptime", "availability", "coverage"].forEach(function (field) {
        var cell = row.querySelector('[data-figure="' + field + '"]');
        if (cell) cell.textContent = percent(figures[field]);
      });
    });
    var bars = box.querySelectorAll(".status-bar[data-day]");
    var byDay = {};
    (data.days || []).forEach(function (day) { byDay[day.date] = day; });
    bars.forEach(function (bar) {
      var day = byDay[bar.getAttribute("data-day")];
      if (day) bar.className = "status-bar state-" + day.state;
    });
  }

  function renderPost(post) {
    var article = document.createElement("article");
    article.className = "status-post" + (post.scheduled_for ? " post-maintenance" : "");
    article.id = post.id;
    var title = document.createElement("h3");
    title.textContent = post.name + " ";
    var state = document.createElement("span");
    state.className = "status-post-state";
    state.textContent = postLabel(post.status);
    title.appendChild(state);
    article.appendChild(title);
    var meta = document.createElement("p");
    meta.className = "muted";
    meta.textContent = post.scheduled_for ? when(post.scheduled_for) + " \u2013 " + when(post.scheduled_until) : when(post.started_at);
    article.appendChild(meta);
    if (post.body) {
      var body = document.createElement("p");
      body.textContent = post.body;
      article.appendChild(body);
    }
    if (post.incident_updates && post.incident_updates.length) {
      var list = document.createElement("ol");
      list.className = "status-updates";
      post.incident_updates.forEach(function (update) {
        var item = document.createElement("li");
        var strong = document.createElement("strong");
        strong.textContent = postLabel(update.status);
        item.appendChild(document.createTextNode(when(update.created_at) + " "));
        item.appendChild(strong);
        item.appendChild(document.createTextNode(" \u2014 " + update.body));
        list.appendChild(item);
      });
      article.appendChild(list);
    }
    return article;
  }

  function updatePosts(key, posts) {
    var box = document.querySelector('[data-posts="' + key + '"]');
    if (!box) return;
    var known = Array.prototype.map.call(box.querySelectorAll("article"), function (a) { return a.id; }).join(" ");
    var fresh = posts.map(function (p) { return p.id; }).join(" ");
    var stamp = posts.map(function (p) { return p.updated_at; }).join(" ");
    if (known === fresh && box.getAttribute("data-stamp") === stamp) return;
    if (box.hasAttribute("data-stamp") || known !== fresh) {
      while (box.firstChild) box.removeChild(box.firstChild);
      if (!posts.length) {
        var none = document.createElement("p");
        none.className = "muted";
        none.textContent = msg("none-" + key);
        box.appendChild(none);
      }
      posts.forEach(function (post) { box.appendChild(renderPost(post)); });
    }
    box.setAttribute("data-stamp", stamp);
  }

  function apply(data) {
    var banner = document.querySelector("[data-banner]");
    if (banner && data.status) {
      if (banner.getAttribute("data-indicator") !== data.status.indicator || banner.textContent.trim() !== data.status.description) {
        banner.setAttribute("data-indicator", data.status.indicator);
        banner.className = "status-banner indicator-" + data.status.indicator;
        banner.querySelector("[data-banner-text]").textContent = data.status.description;
      }
    }
    (data.components || []).concat(data.service ? [data.service] : []).forEach(function (component) {
      var box = document.querySelector('[data-component="' + component.id + '"]');
      if (box) updateComponent(box, component);
    });
    updatePosts("incidents", data.incidents || []);
    updatePosts("scheduled_maintenances", data.scheduled_maintenances || []);
    updatePosts("past_incidents", data.past_incidents || []);
    var updated = document.querySelector("[data-updated]");
    if (updated && data.page) {
      updated.setAttribute("datetime", data.page.updated_at);
      updated.textContent = when(data.page.updated_at);
    }
  }

  function poll() {
    var separator = url.indexOf("?") === -1 ? "?" : "&";
    fetch(url + separator + "lang=" + encodeURIComponent(lang), { credentials: "omit", cache: "no-cache" })
      .then(function (response) {
        if (!response.ok) throw new Error(String(response.status));
        return response.json();
      })
      .then(apply)
      .catch(function () { /* the next round tries again; the page keeps the last state */ })
      .then(function () { window.setTimeout(poll, EVERY); });
  }
  window.setTimeout(poll, EVERY);
})();
