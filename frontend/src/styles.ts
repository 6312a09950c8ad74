// Styled only with Home Assistant's theme variables, so light and dark themes both work.
import { css } from "lit";

export const baseStyles = css`
  :host {
    /* Readable variants of the theme's accent colours, derived from the theme itself so light
       and dark both pass WCAG AA (4.5:1): text mixes toward the text colour, fills toward black
       under white text. */
    --pl-primary-text: color-mix(in srgb, var(--primary-color) 70%, var(--primary-text-color));
    --pl-primary-fill: color-mix(in srgb, var(--primary-color) 70%, black);
    --pl-error-text: color-mix(in srgb, var(--error-color, #db4437) 75%, var(--primary-text-color));
    --pl-error-fill: color-mix(in srgb, var(--error-color, #db4437) 75%, black);
    --pl-success-text: color-mix(in srgb, var(--success-color, #43a047) 60%, var(--primary-text-color));
    color: var(--primary-text-color);
    font-family: var(--ha-font-family-body, var(--paper-font-body1_-_font-family, Roboto, sans-serif));
  }
  h1, h2, h3, h4 { font-weight: 500; margin: 0 0 8px; }
  h2 { font-size: 1.25rem; }
  h3 { font-size: 1.05rem; }
  h4 { font-size: 0.95rem; }
  p { margin: 4px 0; }
  a { color: var(--pl-primary-text); }
  .secondary { color: var(--secondary-text-color); }
  .error {
    color: var(--pl-error-text);
    border-left: 4px solid var(--error-color, #db4437);
    padding: 4px 8px;
    margin: 8px 0;
  }
  .ok { color: var(--pl-success-text); font-weight: 500; }
  .bad { color: var(--pl-error-text); font-weight: 500; }
  button {
    font: inherit;
    cursor: pointer;
    border-radius: 18px;
    padding: 6px 14px;
    min-height: 36px;
    border: 1px solid var(--primary-color);
    background: transparent;
    color: var(--pl-primary-text);
  }
  button.primary { background: var(--pl-primary-fill); border-color: var(--pl-primary-fill); color: #fff; }
  button.danger { border-color: var(--pl-error-text); color: var(--pl-error-text); }
  button.danger.primary { background: var(--pl-error-fill); border-color: var(--pl-error-fill); color: #fff; }
  button:disabled { opacity: 0.5; cursor: default; }
  button:focus-visible, a:focus-visible, input:focus-visible, select:focus-visible,
  textarea:focus-visible, video:focus-visible, summary:focus-visible {
    outline: 2px solid var(--primary-color);
    outline-offset: 2px;
  }
  input[type="text"], input[type="number"], input[type="search"], select, textarea {
    font: inherit;
    color: var(--primary-text-color);
    background: var(--card-background-color, var(--ha-card-background, #fff));
    border: 1px solid var(--divider-color);
    border-radius: 4px;
    padding: 6px 8px;
    box-sizing: border-box;
    max-width: 100%;
  }
  textarea { width: 100%; font-family: monospace; }
  input[type="checkbox"] { width: 20px; height: 20px; accent-color: var(--primary-color); }
  .card {
    background: var(--card-background-color, var(--ha-card-background, #fff));
    border-radius: var(--ha-card-border-radius, 12px);
    border: 1px solid var(--divider-color);
    box-shadow: var(--ha-card-box-shadow, none);
    padding: 16px;
    margin: 0 0 16px;
  }
  .row { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; }
  .fingerprint { font-family: monospace; letter-spacing: 0.05em; word-break: break-word; }
  dl { display: grid; grid-template-columns: max-content 1fr; gap: 4px 12px; margin: 8px 0; }
  dt { color: var(--secondary-text-color); }
  dd { margin: 0; min-width: 0; overflow-wrap: anywhere; }
  ul.plain { list-style: none; padding: 0; margin: 0; }
  dialog {
    background: var(--card-background-color, var(--ha-card-background, #fff));
    color: var(--primary-text-color);
    border: 1px solid var(--divider-color);
    border-radius: var(--ha-card-border-radius, 12px);
    max-width: min(560px, calc(100vw - 32px));
    padding: 20px;
  }
  dialog::backdrop { background: rgba(0, 0, 0, 0.5); }
  .sr-only {
    position: absolute; width: 1px; height: 1px; padding: 0; margin: -1px;
    overflow: hidden; clip: rect(0, 0, 0, 0); white-space: nowrap; border: 0;
  }
`;
