// ESLint flat config: the recommended rules; browser globals for the page sources, node's for the
// build script and the tests. `npm run lint --prefix web` (make lint).
import js from "@eslint/js";
import globals from "globals";

export default [
  { ignores: ["node_modules/"] },
  js.configs.recommended,
  {
    files: ["src/**/*.js"],
    languageOptions: { ecmaVersion: 2020, sourceType: "module", globals: { ...globals.browser } },
  },
  {
    files: ["build.mjs", "eslint.config.js", "test/**/*.js"],
    languageOptions: { ecmaVersion: "latest", sourceType: "module", globals: { ...globals.node } },
  },
];
