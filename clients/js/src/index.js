// wsfan-client: a browser and Node client for wsfan.
export { Client } from "./client.js";
export { Codes, WsfanError } from "./errors.js";
export { Subscription } from "./subscription.js";
