// Suggestions as you type for the search box (an ARIA 1.2 combobox with a listbox popup).
// Served from our own origin (CSP script-src 'self'); the page works without it.
(function () {
  "use strict";
  var form = document.querySelector("form.search-form[data-suggest-url]");
  if (!form) { return; }
  var input = form.querySelector("#search-q");
  var list = form.querySelector("#search-suggestions");
  var live = form.querySelector("#search-live");
  var url = form.getAttribute("data-suggest-url");
  var active = -1;
  var timer = null;
  var lastQuery = "";
  var controller = null;

  // Filters open by default on wide screens; on phones they stay folded above the results.
  var facets = document.getElementById("facets");
  if (facets && window.matchMedia("(min-width: 48rem)").matches) { facets.open = true; }

  function options() { return list.querySelectorAll("[role=option]"); }

  function close() {
    list.hidden = true;
    list.textContent = "";
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    active = -1;
  }

  function announce(count) {
    live.textContent = count ? form.getAttribute("data-msg-some").replace("{n}", String(count))
                             : form.getAttribute("data-msg-none");
  }

  function highlight(index) {
    var items = options();
    if (!items.length) { return; }
    if (active >= 0 && items[active]) { items[active].setAttribute("aria-selected", "false"); }
    active = (index + items.length) % items.length;
    items[active].setAttribute("aria-selected", "true");
    input.setAttribute("aria-activedescendant", items[active].id);
    items[active].scrollIntoView({ block: "nearest" });
  }

  function choose(item) {
    window.location.assign(item.getAttribute("data-url"));
  }

  function render(suggestions) {
    list.textContent = "";
    active = -1;
    suggestions.forEach(function (s, i) {
      var li = document.createElement("li");
      li.id = "search-suggestion-" + i;
      li.setAttribute("role", "option");
      li.setAttribute("aria-selected", "false");
      li.setAttribute("data-url", s.url);
      var text = document.createElement("span");
      text.textContent = s.text;  // never innerHTML: suggestions are data
      var kind = document.createElement("span");
      kind.className = "suggestion-kind";
      kind.textContent = s.label;
      li.appendChild(text);
      li.appendChild(kind);
      li.addEventListener("mousedown", function (event) { event.preventDefault(); choose(li); });
      list.appendChild(li);
    });
    var open = suggestions.length > 0;
    list.hidden = !open;
    input.setAttribute("aria-expanded", open ? "true" : "false");
    announce(suggestions.length);
  }

  function fetchSuggestions() {
    var q = input.value.trim();
    if (q === lastQuery) { return; }
    lastQuery = q;
    if (!q) { close(); return; }
    if (controller) { controller.abort(); }
    controller = new AbortController();
    fetch(url + "?q=" + encodeURIComponent(q), {
      headers: { "Accept": "application/json" }, signal: controller.signal, credentials: "same-origin"
    }).then(function (response) {
      return response.ok ? response.json() : { suggestions: [] };
    }).then(function (body) {
      if (input.value.trim() === q) { render(body.suggestions || []); }
    }).catch(function () { /* aborted or offline: keep the plain search box */ });
  }

  input.addEventListener("input", function () {
    window.clearTimeout(timer);
    timer = window.setTimeout(fetchSuggestions, 200);
  });

  input.addEventListener("keydown", function (event) {
    var open = !list.hidden;
    if (event.key === "ArrowDown") {
      if (open) { highlight(active + 1); event.preventDefault(); }
    } else if (event.key === "ArrowUp") {
      if (open) { highlight(active - 1); event.preventDefault(); }
    } else if (event.key === "Enter") {
      if (open && active >= 0) { event.preventDefault(); choose(options()[active]); }
    } else if (event.key === "Escape") {
      if (open) { event.preventDefault(); close(); }
    }
  });

  input.addEventListener("blur", function () { window.setTimeout(close, 150); });
}());
