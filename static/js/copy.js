// Copy buttons: <button data-copy="<id of an input>" data-copied="<label once copied>">.
// The clipboard API needs a secure context; elsewhere the text is selected and copied
// the old way, and stays selected for the user to copy by hand if that fails too.
document.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-copy]");
  if (!button) return;
  const field = document.getElementById(button.dataset.copy);
  if (!field) return;
  const done = () => {
    if (!button.dataset.label) button.dataset.label = button.textContent;
    button.textContent = button.dataset.copied || button.dataset.label;
    setTimeout(() => { button.textContent = button.dataset.label; }, 2000);
  };
  const fallback = () => {
    field.focus();
    field.select();
    try {
      if (document.execCommand("copy")) done();
    } catch (error) {
      // Selected: the user copies it by hand.
    }
  };
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(field.value).then(done, fallback);
  } else {
    fallback();
  }
});
