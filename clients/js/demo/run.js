// make demo: wsfan, the synthetic feed and the page, until Ctrl-C.
// DEMO_HOST and DEMO_PORT choose the page's address (default 127.0.0.1:8000);
// WSFAN_BIN a prebuilt server (default: go build of this checkout).

import { startDemo } from "./server.js";

const demo = await startDemo({
  host: process.env.DEMO_HOST ?? "127.0.0.1",
  port: Number(process.env.DEMO_PORT ?? 8000),
});
console.log(`wsfan demo: open ${demo.url}  (wsfan on ${demo.wsfan.listen}; Ctrl-C stops)`);
for (const sig of ["SIGINT", "SIGTERM"]) {
  process.once(sig, async () => {
    await demo.stop();
    process.exit(0);
  });
}
