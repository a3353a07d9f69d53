// The real Backstage catalog backend (no frontend): started by the test fixture and the bench
// with an app-config.yaml written for the run (port, database, token, catalog locations).
const { createBackend } = require('@backstage/backend-defaults');

const backend = createBackend();
backend.add(require('@backstage/plugin-catalog-backend'));
backend.start();
