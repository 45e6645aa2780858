// Starts the app. Trunk's default loader is an inline <script>, which a
// Content-Security-Policy without 'unsafe-inline' blocks unless it carries a
// per-build hash; this file replaces it (Trunk.toml's pattern_script), so the
// policy is one fixed string: script-src 'self' 'wasm-unsafe-eval'.
// The hashed file names come from the tag's data attributes, relative to the
// page, so the app runs at the root or under any subpath.
const tag = document.querySelector("script[data-tether-js]");
const { default: init } = await import(new URL(tag.dataset.tetherJs, document.baseURI).href);
await init({ module_or_path: new URL(tag.dataset.tetherWasm, document.baseURI) });
