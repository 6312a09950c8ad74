// Times as the home sees them: in Home Assistant's time zone, in the user's language.
import type { Hass } from "./api";

function locale(hass: Hass): string {
  return hass.locale?.language || hass.language || "en";
}

export function formatDateTime(hass: Hass, iso: string | null | undefined): string {
  if (!iso) return "";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return new Intl.DateTimeFormat(locale(hass), {
    dateStyle: "medium",
    timeStyle: "short",
    timeZone: hass.config.time_zone,
  }).format(date);
}

export function formatTime(hass: Hass, iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return new Intl.DateTimeFormat(locale(hass), {
    timeStyle: "medium",
    timeZone: hass.config.time_zone,
  }).format(date);
}

export function formatDuration(seconds: number): string {
  const total = Math.max(0, Math.round(seconds));
  const m = Math.floor(total / 60);
  const s = total % 60;
  return `${m}:${String(s).padStart(2, "0")}`;
}
