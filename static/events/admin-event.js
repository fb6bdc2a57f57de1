// The event's change form: when the organiser picks another time zone, everything that names
// the zone follows it before saving. The help texts ("In the event's time zone, ...") and the
// admin's calendar and clock shortcuts ("Now", "Today", the "You are N hours ahead" note) are
// Django's DateTimeShortcuts, which read the zone from <body data-admin-utc-offset>.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const input = document.getElementById("id_timezone");
  const list = document.getElementById("timezone-list");
  if (!input || !list) return;

  function follow() {
    const typed = input.value.trim().toLowerCase();
    const option = Array.from(list.options).find((o) => o.value.toLowerCase() === typed);
    if (!option) return; // not (yet) a known zone: the server will say so on save
    const zone = option.value;
    for (const slot of document.querySelectorAll("[data-event-zone]")) {
      slot.textContent = zone;
    }
    document.body.dataset.adminUtcOffset = option.dataset.offset;
    document.body.dataset.adminServerTimezone = zone;
    const shortcuts = window.DateTimeShortcuts;
    if (!shortcuts || !shortcuts.addTimezoneWarning) return;
    const localOffset = new Date().getTimezoneOffset() * -60;
    shortcuts.timezoneOffset = localOffset - Number(option.dataset.offset);
    for (const warning of document.querySelectorAll("." + shortcuts.timezoneWarningClass)) {
      warning.remove();
    }
    for (const field of document.querySelectorAll("input.vDateField, input.vTimeField")) {
      shortcuts.addTimezoneWarning(field);
    }
  }

  input.addEventListener("change", follow);
  input.addEventListener("input", follow);
});
