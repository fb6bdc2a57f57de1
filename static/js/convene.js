// Site-wide progressive enhancement; every page works without it.
// The language switcher is a <details> element: Escape or a click elsewhere closes it, and
// Escape returns focus to its button, as a menu button would.
"use strict";

document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape") return;
  const open = document.querySelector(".language-switcher details[open]");
  if (!open) return;
  open.open = false;
  open.querySelector("summary").focus();
});

document.addEventListener("click", (event) => {
  for (const details of document.querySelectorAll(".language-switcher details[open]")) {
    if (!details.contains(event.target)) details.open = false;
  }
});
