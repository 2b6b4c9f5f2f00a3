// The few behaviours the pages share. No inline script: the Content-Security-Policy forbids it.
document.addEventListener("change", (event) => {
  const el = event.target;
  if (el.matches("[data-autosubmit]")) el.form.requestSubmit();
});
