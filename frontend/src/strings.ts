// The panel's and card's text: translations/<language>.json beside the bundle, fetched with the
// websocket command porchlight/strings (docs/dashboard.md). A non-admin's card may call no
// command, so it reads the same file as a static asset next to the bundle instead.
import type { Hass } from "./api";

export type Strings = Record<string, string>;
export type Translate = (key: string, placeholders?: Record<string, string | number>) => string;

const cache = new Map<string, Promise<Strings>>();

export function loadStrings(hass: Hass): Promise<Strings> {
  const language = hass.language || "en";
  const admin = hass.user?.is_admin === true;
  const cacheKey = `${admin ? "ws" : "static"}:${language}`;
  let pending = cache.get(cacheKey);
  if (!pending) {
    pending = admin ? viaWebsocket(hass, language) : loadStaticStrings(language);
    pending.catch(() => cache.delete(cacheKey));
    cache.set(cacheKey, pending);
  }
  return pending;
}

async function viaWebsocket(hass: Hass, language: string): Promise<Strings> {
  const result = await hass.connection.sendMessagePromise<{ strings: Strings }>({
    type: "porchlight/strings",
    language,
  });
  return result.strings;
}

export async function loadStaticStrings(language: string): Promise<Strings> {
  for (const lang of language === "en" ? ["en"] : [language, "en"]) {
    const response = await fetch(new URL(`translations/${lang}.json`, import.meta.url));
    if (response.ok) return (await response.json()) as Strings;
  }
  throw new Error("no translations");
}

export function translator(strings: Strings | undefined): Translate {
  return (key, placeholders) => {
    // Before the text has arrived nothing is shown rather than raw keys.
    if (!strings) return "";
    let text = strings[key] ?? key;
    if (placeholders) {
      for (const [name, value] of Object.entries(placeholders)) {
        text = text.split(`{${name}}`).join(String(value));
      }
    }
    return text;
  };
}
