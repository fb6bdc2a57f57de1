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

// Remember the language picked in the switcher (Django's default LANGUAGE_COOKIE_NAME), so
// that "/" and links without a prefix open in it next time rather than in the browser's
// first language. Links stay plain links: the page itself needs no cookie.
document.addEventListener("click", (event) => {
  const link = event.target.closest(".language-switcher a[hreflang]");
  if (!link) return;
  const secure = location.protocol === "https:" ? "; secure" : "";
  document.cookie =
    `django_language=${link.hreflang}; path=/; max-age=31536000; samesite=lax${secure}`;
});
