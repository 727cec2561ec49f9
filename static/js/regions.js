// Region fields: suggestions as you type (name, pinyin initials or code), from the same
// division search the phone page uses. Choosing one puts its full name in the field; the
// server resolves the text either way, so the form works without JavaScript too.
(function () {
  "use strict";

  function suggest(input) {
    var url = input.getAttribute("data-region-suggest");
    var list = document.createElement("ul");
    var pending = null;
    list.className = "region-suggestions";
    list.id = input.id + "-suggestions";
    list.setAttribute("role", "listbox");
    list.hidden = true;
    list.style.cssText = "list-style:none;margin:.25rem 0;padding:0;max-height:14rem;overflow:auto";
    input.setAttribute("aria-controls", list.id);
    input.insertAdjacentElement("afterend", list);

    function choose(name) {
      input.value = name;
      list.hidden = true;
      input.focus();
    }

    function show(places) {
      list.textContent = "";
      places.forEach(function (place) {
        var item = document.createElement("li");
        var button = document.createElement("button");
        button.type = "button";
        button.className = "secondary";
        button.setAttribute("role", "option");
        button.textContent = place.name + " " + place.code;
        button.addEventListener("click", function () { choose(place.name); });
        item.appendChild(button);
        list.appendChild(item);
      });
      list.hidden = places.length === 0;
    }

    input.addEventListener("input", function () {
      clearTimeout(pending);
      pending = setTimeout(function () {
        var term = input.value.trim();
        if (!term) { show([]); return; }
        fetch(url + "?q=" + encodeURIComponent(term))
          .then(function (response) { return response.ok ? response.json() : { results: [] }; })
          .then(function (data) { show((data.results || []).slice(0, 8)); })
          .catch(function () { show([]); });
      }, 250);
    });
    input.addEventListener("keydown", function (event) {
      if (event.key === "Escape") { list.hidden = true; }
    });
  }

  document.querySelectorAll("input[data-region-suggest]").forEach(suggest);
})();
