"""The official MCP client SDK (the Python `mcp` package) against the local host's
MCP server, as an assistant would use it. Run by tests/mcp.rs, which starts the
host and passes MCP_URL, ALICE_TOKEN (a JWT) and BOB_TOKEN (a personal access
token); exits non-zero, saying
what failed, when anything is not as it should be. Every wait is bounded.
"""

import asyncio
import os
import sys
import time
from datetime import datetime, timedelta, timezone

from mcp import Client
from mcp.client.auth.utils import extract_resource_metadata_from_www_auth, handle_protected_resource_response
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

URL = os.environ["MCP_URL"]
ALICE = os.environ["ALICE_TOKEN"]
BOB = os.environ["BOB_TOKEN"]
ISSUER = os.environ["ISSUER"]
DEADLINE_SECONDS = 30


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def connect(token):
    """A client of `URL` as the user `token` names, negotiating the protocol as the SDK does."""
    http = create_mcp_http_client(headers={"Authorization": f"Bearer {token}"})
    return http, Client(streamable_http_client(URL, http_client=http))


async def until(what, probe):
    """`probe()` until it returns something truthy, for at most DEADLINE_SECONDS."""
    deadline = time.monotonic() + DEADLINE_SECONDS
    while time.monotonic() < deadline:
        found = await probe()
        if found:
            return found
        await asyncio.sleep(0.2)
    raise AssertionError(f"{what}: not within {DEADLINE_SECONDS} s")


def iso(moment):
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


async def lists_tools_with_annotations(client):
    tools = {t.name: t for t in (await client.list_tools()).tools}
    for name in ["list_tasks", "get_task", "create_task", "update_task", "complete_task", "reopen_task",
                 "delete_task", "list_tags", "list_notifications", "mark_notification_read", "task_activity",
                 "list_lists", "create_list", "list_members", "add_member", "remove_member", "today", "add_tasks", "quick_add",
                 "snooze_task", "user_info", "reschedule_tasks", "update_list", "delete_list",
                 "change_member_role", "list_activity", "user_activity", "overview", "search", "fetch",
                 "complete_tasks", "update_tasks", "create_invitation", "revoke_invitation",
                 "find_completed_tasks", "move_task"]:
        check(name in tools, f"{name} is not listed: {sorted(tools)}")
    check(tools["list_tasks"].annotations.read_only_hint is True, "list_tasks is read-only")
    check(tools["delete_task"].annotations.destructive_hint is True, "delete_task is destructive")
    check(tools["complete_task"].annotations.idempotent_hint is True, "complete_task is idempotent")
    check(tools["create_task"].output_schema is not None, "create_task has an output schema")
    prompts = [p.name for p in (await client.list_prompts()).prompts]
    check("plan_my_day" in prompts, f"plan_my_day is offered: {prompts}")
    print(f"ok: {len(tools)} tools listed, protocol {client.session.protocol_version}")


async def a_reminder_arrives_as_a_notification(client):
    due = datetime.now(timezone.utc) + timedelta(seconds=3)
    created = await client.call_tool(
        "create_task", {"title": "Stretch", "due_at": iso(due), "remind_before_minutes": 0})
    check(not created.is_error, f"create_task: {created.content}")
    task_id = created.structured_content["id"]

    async def reminded():
        result = await client.call_tool("list_notifications", {"unread": True})
        check(not result.is_error, f"list_notifications: {result.content}")
        return [n for n in result.structured_content["items"] if n["task_id"] == task_id]

    found = await until("the reminder's notification", reminded)
    day = await client.call_tool("today", {})
    check(day.structured_content["unread_notifications"] >= 1, f"today counts the reminder: {day.content}")
    marked = await client.call_tool("mark_notification_read", {"id": found[0]["id"]})
    check(marked.structured_content["read_at"] is not None, f"mark_notification_read: {marked.content}")
    print("ok: the reminder arrived through list_notifications and was marked read")


async def completing_a_recurring_task_brings_its_next_occurrence(client):
    due = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(days=1)
    created = await client.call_tool(
        "create_task", {"title": "Water the plants", "due_at": iso(due), "recurrence": "FREQ=WEEKLY"})
    first = created.structured_content
    done = await client.call_tool("complete_task", {"id": first["id"], "expected_version": first["version"]})
    check(done.structured_content["completed"] is True, f"complete_task: {done.content}")

    async def next_occurrence():
        result = await client.call_tool("list_tasks", {"q": "Water the plants", "status": "open"})
        return [t for t in result.structured_content["items"] if t["id"] != first["id"]]

    following = (await until("the next occurrence", next_occurrence))[0]
    check(following["series_id"] == first["series_id"], f"same series: {following}")
    expected = iso(due + timedelta(days=7))
    check(following["due_at"].startswith(expected[:19]), f"a week later: {following['due_at']} vs {expected}")
    print(f"ok: the next occurrence is due {following['due_at']}")
    return first["id"]


async def invalid_input_is_a_tool_error_that_stores_nothing(client):
    before = (await client.call_tool("list_tasks", {"status": "all", "limit": 200})).structured_content["items"]
    refused = await client.call_tool("create_task", {"title": "", "priority": "whenever"})
    check(refused.is_error, f"an invalid task is refused: {refused.content}")
    check(refused.structured_content is None, f"a refusal has no structured content: {refused.structured_content}")
    text = refused.content[0].text
    check("priority" in text, f"the error names the field: {text}")
    after = (await client.call_tool("list_tasks", {"status": "all", "limit": 200})).structured_content["items"]
    check(len(after) == len(before), f"nothing stored: {len(before)} then {len(after)}")
    print(f"ok: invalid input refused as a tool error ({text.splitlines()[0]})")


async def another_user_sees_none_of_it(alices_task):
    http, client = connect(BOB)
    async with http, client:
        seen = await client.call_tool("list_tasks", {"status": "all"})
        check(seen.structured_content["items"] == [], f"bob sees nothing: {seen.structured_content}")
        got = await client.call_tool("get_task", {"id": alices_task})
        check(got.is_error and "[not_found]" in got.content[0].text, f"get_task: {got.content}")
        tags = await client.call_tool("list_tags", {})
        check(tags.structured_content["tags"] == [], f"no tags of alice's: {tags.structured_content}")
    print("ok: a second user (with a personal access token) sees none of the first user's tasks")


async def no_token_is_refused_with_the_metadata_pointer():
    async with create_mcp_http_client() as http:
        response = await http.post(URL, json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
                                   headers={"Accept": "application/json, text/event-stream"})
        check(response.status_code == 401, f"401 without a token, got {response.status_code}")
        pointer = extract_resource_metadata_from_www_auth(response)
        check(pointer is not None, f"WWW-Authenticate names resource_metadata: {response.headers}")
        metadata = await handle_protected_resource_response(await http.get(pointer))
        check(metadata is not None, f"the SDK reads the metadata at {pointer}")
        check(str(metadata.resource).rstrip("/") == URL, f"the resource is the endpoint: {metadata.resource}")
        issuers = [str(s).rstrip("/") for s in metadata.authorization_servers]
        check(issuers == [ISSUER.rstrip("/")], f"the issuer the API trusts: {issuers}")
        check(metadata.scopes_supported == ["tasks:read", "tasks:write"], f"scopes: {metadata.scopes_supported}")
    print(f"ok: no token, 401 pointing at {pointer}")


async def main():
    await no_token_is_refused_with_the_metadata_pointer()
    http, client = connect(ALICE)
    async with http, client:
        await lists_tools_with_annotations(client)
        timings = []
        for _ in range(20):
            started = time.monotonic()
            await client.call_tool("list_tags", {})
            timings.append((time.monotonic() - started) * 1000)
        print(f"round trip of a tool call (list_tags, median of 20): {sorted(timings)[10]:.1f} ms")
        await a_reminder_arrives_as_a_notification(client)
        task = await completing_a_recurring_task_brings_its_next_occurrence(client)
        await invalid_input_is_a_tool_error_that_stores_nothing(client)
    await another_user_sees_none_of_it(task)


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except AssertionError as failure:
        print(f"FAILED: {failure}", file=sys.stderr)
        sys.exit(1)
