// Feedback intake: Enter in the promise search runs the search instead of submitting the feedback.
document.addEventListener("keydown", (event) => {
  const el = event.target;
  if (event.key === "Enter" && el.matches("[data-search-field]")) {
    event.preventDefault();
    el.dispatchEvent(new Event("search", { bubbles: true }));
  }
});
