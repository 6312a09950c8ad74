// What the owner needs to judge a request: who asks (and whether they are trusted), for which
// case and why, for which time window, and where, drawn over the home.
import { html, nothing } from "lit";
import { fingerprintGroups, type Hass, type Home, type Request } from "./api";
import { areaMap } from "./area-map";
import { formatDateTime, formatRange } from "./format";
import type { Translate } from "./strings";

export function requestSummary(hass: Hass, t: Translate, request: Request, home: Home | undefined, withMap = true): unknown {
  const agency = request.agency;
  return html`<div class="summary">
    <dl>
      <dt>${t("agency")}</dt>
      <dd>${agency.name}</dd>
      <dt>${t("fingerprint")}</dt>
      <dd class="fingerprint">${fingerprintGroups(agency.fingerprint)}</dd>
      <dt>${t("trusted_since")}</dt>
      <dd>${agency.trusted && agency.trusted_since ? formatDateTime(hass, agency.trusted_since) : t("not_trusted")}</dd>
      <dt>${t("case")}</dt>
      <dd>${request.case}</dd>
      <dt>${t("reason")}</dt>
      <dd>${request.reason}</dd>
      <dt>${t("time_window")}</dt>
      <dd>${t("time_range", formatRange(hass, request.start, request.end))}</dd>
      <dt>${t("received")}</dt>
      <dd>${formatDateTime(hass, request.received)}</dd>
      ${request.open
        ? html`<dt>${t("decide_by")}</dt>
            <dd>${formatDateTime(hass, request.expires)}</dd>`
        : nothing}
    </dl>
    ${withMap && home
      ? html`<figure class="mapbox">
          ${areaMap(request.area, home, t("map_label", { home: home.name }))}
          <figcaption class="secondary">${t("map_caption")}</figcaption>
        </figure>`
      : nothing}
  </div>`;
}
