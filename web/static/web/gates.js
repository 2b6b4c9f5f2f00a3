// The decision page's "tick all as met": marks every criterion met in one go. Without script the
// page offers the "Go: all criteria met" submit instead, which does the same on the server.
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("[data-all-met]").forEach((button) => {
    button.hidden = false;
    button.addEventListener("click", () => {
      button.form.querySelectorAll('.criterion input[type="radio"][value="met"]').forEach((radio) => {
        radio.checked = true;
      });
      const go = button.form.querySelector('input[name="decision"][value="go"]');
      if (go) go.checked = true;
    });
  });
});
