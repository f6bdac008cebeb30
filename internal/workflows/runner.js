// Runs one Latchkey code step: the step's code is the body of an async
// function of (auths, steps, $). Input arrives as JSON on stdin; the
// outcome leaves as JSON on file descriptor 3, so that whatever the code
// prints stays in the logs.
"use strict";
const fs = require("fs");

const report = (outcome) => {
  try {
    fs.writeSync(3, JSON.stringify(outcome));
  } catch (err) {
    process.stderr.write("latchkey: could not report the result: " + err.message + "\n");
  }
};

(async () => {
  const input = JSON.parse(fs.readFileSync(0, "utf8"));
  const exports = {};
  const $ = { export: (name, value) => { exports[String(name)] = value; } };
  const AsyncFunction = Object.getPrototypeOf(async function () {}).constructor;
  let fn;
  try {
    fn = new AsyncFunction("auths", "steps", "$", input.code);
  } catch (err) {
    report({ ok: false, error: { message: "the code does not parse: " + err.message } });
    return;
  }
  try {
    const result = await fn(input.auths, input.steps, $);
    report({ ok: true, result: result === undefined ? null : result, exports });
  } catch (err) {
    const e = err || {};
    const status = e.status || e.statusCode || (e.response && e.response.status) || 0;
    report({ ok: false, error: { message: String(e.message || e), status: Number(status) || 0 } });
  }
})();
