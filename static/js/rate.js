// The rating, scan and follow-up pages work as plain forms; this only smooths them:
// a photo over 5 MB is refused before it is sent, the chosen level brings its tags into
// view, a second tap on "submit" sends nothing more, and the service list filters as
// the person types.
(function () {
  "use strict";
  var photo = document.getElementById("rate-photo");
  var photoError = document.getElementById("photo-error");
  if (photo && photoError) {
    photo.addEventListener("change", function () {
      var file = photo.files && photo.files[0];
      var limit = parseInt(photo.dataset.maxBytes, 10);
      if (file && file.size > limit) {
        photoError.textContent = photo.dataset.tooLarge;
        photoError.hidden = false;
        photo.value = "";
      } else {
        photoError.hidden = true;
      }
    });
  }
  document.querySelectorAll(".levels input[type=radio]").forEach(function (radio) {
    radio.addEventListener("change", function () {
      var more = document.querySelector(".rate-more");
      if (more && more.scrollIntoView) {
        window.setTimeout(function () { more.scrollIntoView({ behavior: "smooth", block: "start" }); }, 50);
      }
    });
  });
  document.querySelectorAll("form.rate-form, form.scan-services").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (form.dataset.sent) { event.preventDefault(); return; }
      form.dataset.sent = "1";
      var button = form.querySelector("button[type=submit].big");
      if (button && button.dataset.sending) { button.textContent = button.dataset.sending; }
    });
  });
  var search = document.getElementById("scan-q");
  var noMatch = document.getElementById("scan-nomatch");
  if (search) {
    search.addEventListener("input", function () {
      var words = search.value.trim();
      var shown = 0;
      document.querySelectorAll(".service-choice").forEach(function (button) {
        button.hidden = words !== "" && button.dataset.name.indexOf(words) === -1;
        if (!button.hidden) { shown += 1; }
      });
      // Typing a word that matches nothing says so, as the search button's answer does.
      if (noMatch) { noMatch.hidden = shown > 0; }
    });
  }
})();
