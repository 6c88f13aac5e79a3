// The MCP server under the official TypeScript SDK (@modelcontextprotocol/sdk
// from target/node-tools), which checks each tool's structured content against
// its output schema: every tool called with valid arguments, and refusals
// whose message must reach the client as text. Run by tests/mcp.rs against the
// local host at MCP_URL with ALICE_TOKEN. Exits 1 naming what failed.
import { createRequire } from 'node:module';

const require = createRequire(new URL('../target/node-tools/', import.meta.url));
const { Client } = await import(require.resolve('@modelcontextprotocol/sdk/client/index.js'));
const { StreamableHTTPClientTransport } = await import(require.resolve('@modelcontextprotocol/sdk/client/streamableHttp.js'));

function check(condition, message) {
  if (!condition) throw new Error(message);
}

async function connect(token) {
  const client = new Client({ name: 'todo-tests-ts', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(process.env.MCP_URL), {
    requestInit: { headers: { Authorization: `Bearer ${token}` } },
  });
  await client.connect(transport);
  return client;
}

/** The tools called successfully, checked against tools/list at the end. */
const called = new Set();

/** A successful call: the SDK has validated its structured content against the output schema. */
async function call(client, name, args) {
  called.add(name);
  const result = await client.callTool({ name, arguments: args });
  check(!result.isError, `${name}: ${JSON.stringify(result.content)}`);
  return result.structuredContent;
}

/** A refusal: its message, as text, with the code (one of `codes`) in brackets. */
async function refused(client, name, args, ...codes) {
  const result = await client.callTool({ name, arguments: args });
  check(result.isError, `${name} ${JSON.stringify(args)} was not refused`);
  const text = result.content.map((c) => c.text).join('\n');
  check(codes.some((code) => text.includes(`[${code}]`)), `${name}: expected [${codes.join('] or [')}] in ${text}`);
  return text;
}

try {
  const alice = await connect(process.env.ALICE_TOKEN);
  const { tools } = await alice.listTools();
  console.log(`ok: ${tools.length} tools listed`);

  const list = await call(alice, 'create_list', { name: 'Errands' });
  const task = await call(alice, 'create_task', { title: 'Buy stamps', list_id: list.id, priority: 'high', tags: ['post'] });
  await call(alice, 'get_task', { id: task.id });
  await call(alice, 'list_tasks', { status: 'all' });
  const changed = await call(alice, 'update_task', { id: task.id, title: 'Buy stamps and envelopes', expected_version: 1 });
  check(changed.version === 2, `update_task: ${JSON.stringify(changed)}`);
  await call(alice, 'complete_task', { id: task.id });
  await call(alice, 'reopen_task', { id: task.id });
  const second = await call(alice, 'create_task', { title: 'Post the letters', list_id: list.id });
  const first = await call(alice, 'move_task', { id: second.id });
  const ordered = await call(alice, 'list_tasks', { list: list.id, sort: 'manual' });
  check(ordered.items[0].id === first.id, `move_task put it first: ${ordered.items.map((t) => t.title)}`);
  await call(alice, 'move_task', { id: second.id, after: task.id });
  await refused(alice, 'move_task', { id: second.id, after: second.id }, 'validation_failed');
  await call(alice, 'list_tags', {});
  await call(alice, 'list_lists', {});
  await call(alice, 'list_members', { list_id: list.id });
  const renamed = await call(alice, 'update_list', { list_id: list.id, name: 'Errands and post', colour: '#aa5500' });
  check(renamed.name === 'Errands and post', `update_list: ${JSON.stringify(renamed)}`);
  await refused(alice, 'update_list', { list_id: list.id, name: '' }, 'validation_failed');
  await call(alice, 'list_activity', { list_id: list.id });
  await call(alice, 'user_activity', { limit: 5 });
  await refused(alice, 'change_member_role', { list_id: list.id, user_id: 'alice', role: 'viewer' }, 'last_owner');
  const invited = await call(alice, 'create_invitation', { list_id: list.id, role: 'viewer' });
  check(invited.token && invited.accept_path.includes(invited.token), `create_invitation: ${JSON.stringify(invited)}`);
  await call(alice, 'revoke_invitation', { list_id: list.id, invitation_id: invited.id });
  const scratch = await call(alice, 'create_list', { name: 'Scratch' });
  const gone = await call(alice, 'delete_list', { list_id: scratch.id });
  check(gone.deleted === scratch.id, `delete_list: ${JSON.stringify(gone)}`);
  const glance = await call(alice, 'overview', {});
  check(glance.markdown.startsWith('# Overview'), `overview: ${JSON.stringify(glance)}`);
  const found = await call(alice, 'search', { query: 'stamps' });
  check(found.results.length === 1 && found.results[0].id === task.id, `search: ${JSON.stringify(found)}`);
  const document = await call(alice, 'fetch', { id: task.id });
  check(document.text.startsWith('Buy stamps'), `fetch: ${JSON.stringify(document)}`);
  await refused(alice, 'fetch', { id: 'nope' }, 'invalid_path');
  await call(alice, 'list_notifications', {});
  await call(alice, 'today', {});
  await call(alice, 'add_tasks', { tasks: [{ title: 'One' }, { title: 'Two' }] });
  const quick = await call(alice, 'quick_add', { text: 'Call mum friday 6pm #family', time_zone: 'Europe/Berlin' });
  check(quick.title === 'Call mum' && quick.tags[0] === 'family' && quick.due_at, `quick_add: ${JSON.stringify(quick)}`);
  await refused(alice, 'quick_add', { text: 'x', time_zone: 'Mars/Olympus' }, 'validation_failed');
  const spoken = await call(alice, 'create_task', { title: 'Water plants', due_at: 'tomorrow 8am' });
  check(spoken.due_at, `create_task with a spoken date: ${JSON.stringify(spoken)}`);
  const moved = await call(alice, 'reschedule_tasks', { ids: [spoken.id, task.id], to: 'next friday 5pm' });
  check(moved.moved.length === 2 && moved.moved[0].due_at === moved.moved[1].due_at, `reschedule_tasks: ${JSON.stringify(moved)}`);
  await refused(alice, 'reschedule_tasks', { ids: [spoken.id], to: 'when pigs fly' }, 'invalid_arguments');
  const batch = await call(alice, 'update_tasks', { tasks: [{ id: spoken.id, priority: 'low' }, { id: task.id, due_at: 'in 3 days' }] });
  check(batch.updated.length === 2 && batch.updated[0].priority === 'low', `update_tasks: ${JSON.stringify(batch)}`);
  await refused(alice, 'update_tasks', { tasks: [{ id: spoken.id, title: '' }] }, 'validation_failed');
  const finished = await call(alice, 'complete_tasks', { ids: [spoken.id, task.id] });
  check(finished.completed.every((t) => t.completed), `complete_tasks: ${JSON.stringify(finished)}`);
  const got = await call(alice, 'find_completed_tasks', { completed_after: 'yesterday' });
  check(got.items.some((t) => t.id === spoken.id), `find_completed_tasks: ${JSON.stringify(got)}`);
  await refused(alice, 'find_completed_tasks', { completed_after: 'when pigs fly' }, 'invalid_arguments');
  const me = await call(alice, 'user_info', {});
  check(me.time_zone && me.settings && typeof me.settings.email_verified === 'boolean', `user_info: ${JSON.stringify(me)}`);
  const reminded = await call(alice, 'create_task', { title: 'Water plants', due_at: new Date(Date.now() + 3600e3).toISOString(), remind_before_minutes: 10 });
  const snoozed = await call(alice, 'snooze_task', { id: reminded.id, minutes: 20 });
  check(Date.parse(snoozed.remind_at) > Date.now() + 19 * 60e3, `snooze_task: ${JSON.stringify(snoozed)}`);
  await refused(alice, 'snooze_task', { id: reminded.id, minutes: 0 }, 'validation_failed');
  await call(alice, 'task_activity', { id: task.id });
  await call(alice, 'delete_task', { id: task.id });
  const added = await call(alice, 'add_member', { list_id: list.id, user_id: 'bob', role: 'editor' });
  check(added.role === 'editor', `add_member: ${JSON.stringify(added)}`);
  const demoted = await call(alice, 'change_member_role', { list_id: list.id, user_id: 'bob', role: 'viewer' });
  check(demoted.role === 'viewer', `change_member_role: ${JSON.stringify(demoted)}`);
  await call(alice, 'remove_member', { list_id: list.id, user_id: 'bob' });
  const members = await call(alice, 'list_members', { list_id: list.id });
  check(members.items.every((m) => m.user_id !== 'bob'), `remove_member: ${JSON.stringify(members)}`);
  // A reminder due now, fired by the host's cron (ticking every 200 ms), then read.
  await call(alice, 'create_task', { title: 'Ring the bell', due_at: new Date(Date.now() + 1000).toISOString(), remind_before_minutes: 0 });
  let notification;
  for (let attempt = 0; attempt < 100 && !notification; attempt++) {
    notification = (await call(alice, 'list_notifications', {})).items.find((n) => n.title === 'Ring the bell');
    if (!notification) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  check(notification, 'the reminder never arrived in list_notifications');
  const read = await call(alice, 'mark_notification_read', { id: notification.id });
  check(read.read_at, `mark_notification_read: ${JSON.stringify(read)}`);
  const uncalled = tools.map((t) => t.name).filter((name) => !called.has(name));
  check(uncalled.length === 0, `tools never called with valid arguments: ${uncalled.join(', ')}`);
  console.log(`ok: every tool answered with structured content its output schema accepts (${called.size} of ${tools.length})`);

  // Every tool refused with bad arguments: those it requires missing, or, for
  // a tool that requires none, one it does not take; an argument is named.
  for (const tool of tools) {
    const required = tool.inputSchema.required ?? [];
    const [args, named] = required.length ? [{}, required] : [{ not_an_argument: 1 }, ['not_an_argument']];
    const text = await refused(alice, tool.name, args, 'invalid_arguments', 'validation_failed');
    check(named.some((n) => text.includes(n)), `${tool.name}: the refusal names one of ${named}: ${text}`);
  }
  console.log(`ok: all ${tools.length} tools refuse bad arguments, naming them`);

  const stale = await refused(alice, 'update_task', { id: (await call(alice, 'create_task', { title: 'x' })).id, title: 'y', expected_version: 7 }, 'precondition_failed');
  check(stale.includes('expected_version'), `in the tool's terms: ${stale}`);
  const invalid = await refused(alice, 'create_task', { title: '', priority: 'whenever' }, 'invalid_arguments');
  check(invalid.includes('priority'), `the argument at fault is named: ${invalid}`);
  await refused(alice, 'get_task', { id: '00000000-0000-7000-8000-000000000000' }, 'not_found');
  console.log('ok: refusals reach the client as text, in the tool\'s terms');
  await alice.close();
  process.exit(0);
} catch (e) {
  console.error(`FAILED: ${e.message}`);
  process.exit(1);
}
