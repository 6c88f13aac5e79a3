// The settings dialog: time zone, the e-mail address reminders go to (and
// whether it is confirmed), where reminders go, and quiet hours
// (GET/PUT /v1/me/settings); and whether this browser shows pushed reminders
// (push.js), turned on or off at once.

import { api } from "./api.js";
import { formErrors, timeZone } from "./form.js";
import * as push from "./push.js";

const $ = (id) => document.getElementById(id);

/** The form's fields that an API field error names, by the API's field. */
const FIELDS = { time_zone: "zone", email: "email", quiet_hours: "quiet_start", channels: "in_app" };

export class Settings {
  /** `say` reports in the status line. */
  constructor({ say }) {
    this.say = say;
    this.dialog = $("settings");
    this.form = $("settings-form");
    this.current = null;
    const zones = typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : [timeZone()];
    this.form.zone.replaceChildren(...["UTC", ...zones.filter((z) => z !== "UTC")].map((z) => new Option(z.replaceAll("_", " "), z)));
    $("open-settings").addEventListener("click", () => this.open());
    $("settings-cancel").addEventListener("click", () => this.dialog.close());
    this.form.quiet.addEventListener("change", () => this.quietShown());
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.save();
    });
    $("set-resend").addEventListener("click", () => this.resend());
    $("set-push-toggle").addEventListener("click", () => this.togglePush());
  }

  async open() {
    try {
      this.current = await api("GET", "/v1/me/settings");
    } catch (e) {
      this.say(e.message, e);
      return;
    }
    this.fill(this.current);
    formErrors(this.form, null, $("settings-error"), FIELDS);
    this.dialog.showModal();
    await this.pushStatus();
  }

  fill(s) {
    const f = this.form;
    // Never saved: this device's zone is the likely one.
    f.zone.value = s.updated_at ? s.time_zone : timeZone();
    if (!f.zone.value) f.zone.value = "UTC";
    f.email.value = s.email || "";
    const reminders = s.channels.reminders;
    f.in_app.checked = reminders.in_app;
    f.by_email.checked = reminders.email;
    f.push.checked = reminders.push;
    f.webhooks.checked = reminders.webhooks;
    f.quiet.checked = !!s.quiet_hours;
    if (s.quiet_hours) {
      f.quiet_start.value = s.quiet_hours.start;
      f.quiet_end.value = s.quiet_hours.end;
    }
    this.quietShown();
    this.emailStatus(s);
  }

  quietShown() {
    for (const input of [this.form.quiet_start, this.form.quiet_end]) input.disabled = !this.form.quiet.checked;
  }

  emailStatus(s) {
    const status = $("set-email-status");
    if (!s.email) status.textContent = "No address: reminders are not e-mailed.";
    else if (s.email_verified) status.textContent = "Confirmed.";
    else status.textContent = `Waiting for you to open the link sent to ${s.email}. Nothing else is sent to it until then.`;
    $("set-resend").hidden = !s.email || s.email_verified;
  }

  body() {
    const f = this.form;
    const email = f.email.value.trim();
    return {
      time_zone: f.zone.value,
      email: email || null,
      channels: {
        reminders: {
          in_app: f.in_app.checked,
          email: f.by_email.checked,
          push: f.push.checked,
          webhooks: f.webhooks.checked,
        },
      },
      quiet_hours: f.quiet.checked ? { start: f.quiet_start.value, end: f.quiet_end.value } : null,
    };
  }

  async save() {
    const f = this.form;
    if (f.quiet.checked && (!f.quiet_start.value || !f.quiet_end.value)) {
      formErrors(f, { message: "Check the fields marked above.", fields: [{ field: "quiet_hours", message: "Give both times." }] }, $("settings-error"), FIELDS);
      return;
    }
    try {
      const before = this.current.email;
      this.current = await api("PUT", "/v1/me/settings", this.body());
      formErrors(f, null, $("settings-error"), FIELDS);
      this.dialog.close();
      const mailed = this.current.email && this.current.email !== before && !this.current.email_verified;
      this.say(mailed ? `Settings saved. Open the link sent to ${this.current.email} to confirm it.` : "Settings saved.");
    } catch (e) {
      formErrors(f, e, $("settings-error"), FIELDS);
    }
  }

  /** Says whether this browser shows pushed reminders, and offers the switch. */
  async pushStatus() {
    const status = $("set-push-status");
    const toggle = $("set-push-toggle");
    toggle.hidden = true;
    if (!push.supported()) {
      status.textContent = "This browser cannot show notifications.";
      return;
    }
    let key;
    try {
      key = await api("GET", "/v1/push/key");
    } catch (e) {
      status.textContent = e.message;
      return;
    }
    if (!key.enabled) {
      status.textContent = "This server does not send notifications.";
      return;
    }
    const on = await push.isOn();
    status.textContent = on
      ? "On: reminders pop up here, even when Todo is closed."
      : "Off: reminders do not pop up in this browser.";
    toggle.textContent = on ? "Turn off in this browser" : "Turn on in this browser";
    toggle.hidden = false;
  }

  /** Turns this browser's push on (and reminders to push with it) or off. */
  async togglePush() {
    const status = $("set-push-status");
    try {
      if (await push.isOn()) {
        await push.turnOff();
      } else {
        status.textContent = "Asking the browser…";
        await push.turnOn();
        if (!this.current.channels.reminders.push) {
          const saved = this.current;
          const reminders = { ...saved.channels.reminders, push: true };
          this.current = await api("PUT", "/v1/me/settings", {
            time_zone: saved.time_zone,
            email: saved.email,
            channels: { reminders },
            quiet_hours: saved.quiet_hours,
          });
        }
        this.form.push.checked = true;
      }
      await this.pushStatus();
    } catch (e) {
      status.textContent = e.message;
    }
  }

  async resend() {
    try {
      await api("POST", "/v1/me/settings/email/confirmation");
      $("set-email-status").textContent = `A new link is on its way to ${this.current.email}.`;
    } catch (e) {
      $("set-email-status").textContent = e.message;
    }
  }
}
