// Waits until the local verdaccio answers (at most 60 s, or until its process
// exits), creates a user and prints the user's token. Used by local-registry.sh.
const url = process.env.REGISTRY_URL;
const pid = Number(process.env.REGISTRY_PID);
const deadline = Date.now() + 60_000;

function alive() {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

for (;;) {
  try {
    const ping = await fetch(new URL("-/ping", url));
    if (ping.ok) break;
  } catch {
    // Not listening yet.
  }
  if (!alive()) throw new Error(`verdaccio (pid ${pid}) exited before answering on ${url}`);
  if (Date.now() > deadline) throw new Error(`verdaccio did not answer on ${url} within 60 s`);
  await new Promise((resolve) => setTimeout(resolve, 250));
}

const response = await fetch(new URL("-/user/org.couchdb.user:opf-ci", url), {
  method: "PUT",
  headers: { "content-type": "application/json" },
  body: JSON.stringify({ name: "opf-ci", password: "opf-ci-password" }),
});
if (!response.ok)
  throw new Error(`creating a registry user failed: ${response.status} ${await response.text()}`);
const { token } = await response.json();
process.stdout.write(token);
