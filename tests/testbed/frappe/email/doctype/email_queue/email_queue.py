"""Email Queue, and v15's QueueBuilder that `frappe.sendmail` uses to fill it.

The testbed queues exactly as v15 does (one Email Queue row with the MIME message, one
Email Queue Recipient row per recipient, status "Not Sent"); it never sends."""

import email.utils
import json
from email import charset as Charset
from email import policy
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText

import frappe
from frappe import _
from frappe.model.document import Document
from frappe.utils import (
	add_days,
	cstr,
	get_url,
	nowdate,
	parse_addr,
	split_emails,
	strip_html_tags,
	validate_email_address,
)

# v15's EMail: utf-8 parts are quoted-printable
Charset.add_charset("utf-8", Charset.QP, Charset.QP, "utf-8")

STANDARD_USERS = ("Guest", "Administrator")


class EmailQueue(Document):
	DOCTYPE = "Email Queue"

	def set_recipients(self, recipients):
		self.set("recipients", [])
		for r in recipients:
			self.append("recipients", {"recipient": r.strip(), "status": "Not Sent"})

	def on_trash(self):
		if frappe.session.user != "Administrator":
			frappe.throw(_("Only Administrator can delete Email Queue"))

	@classmethod
	def new(cls, doc_data, ignore_permissions=False) -> "EmailQueue":
		data = doc_data.copy()
		if not data.get("recipients"):
			return

		recipients = data.pop("recipients")
		doc = frappe.new_doc(cls.DOCTYPE)
		doc.update(data)
		doc.set_recipients(recipients)
		doc.insert(ignore_permissions=ignore_permissions)
		return doc

	@classmethod
	def find(cls, name) -> "EmailQueue":
		return frappe.get_doc(cls.DOCTYPE, name)

	def send(self, smtp_server_instance=None):
		# the testbed has no SMTP: a "send now" leaves the row queued, as with muted emails
		pass


def get_outgoing_email_account(sender=None):
	"""v15's EmailAccount.find_outgoing: an enabled default outgoing account, else one from
	site config (mail_server), else a dummy when emails are muted, else OutgoingEmailError."""
	if frappe.db.table_exists("Email Account"):
		filters = {"enable_outgoing": 1, "default_outgoing": 1}
		if sender:
			match = frappe.db.get_value(
				"Email Account", {"enable_outgoing": 1, "email_id": parse_addr(sender)[1]}
			)
			if match:
				filters = {"name": match}
		account = frappe.db.get_value("Email Account", filters, ["name", "email_id"], as_dict=True)
		if account:
			return frappe._dict(account, exists_in_db=True)

	if frappe.conf.get("mail_server"):
		return frappe._dict(
			name=frappe.conf.get("email_sender_name") or "Frappe",
			email_id=frappe.conf.get("auto_email_id")
			or frappe.conf.get("mail_login")
			or "notifications@example.com",
		)

	if frappe.flags.mute_emails or frappe.conf.get("mute_emails"):
		return frappe._dict(name=None, email_id="notifications@example.com")

	frappe.throw(
		_("Please setup default Email Account from Settings > Email Account"), frappe.OutgoingEmailError
	)


class QueueBuilder:
	"""Builds Email Queue rows from sendmail's arguments (v15 semantics, no sending)"""

	def __init__(
		self,
		recipients=None,
		sender=None,
		subject=None,
		message=None,
		text_content=None,
		reference_doctype=None,
		reference_name=None,
		unsubscribe_method=None,
		unsubscribe_params=None,
		unsubscribe_message=None,
		attachments=None,
		reply_to=None,
		cc=None,
		bcc=None,
		message_id=None,
		in_reply_to=None,
		send_after=None,
		expose_recipients=None,
		send_priority=1,
		communication=None,
		read_receipt=None,
		queue_separately=False,
		is_notification=False,
		add_unsubscribe_link=1,
		inline_images=None,
		header=None,
		print_letterhead=False,
		with_container=False,
		email_read_tracker_url=None,
		x_priority=3,
		email_headers=None,
	):
		self._unsubscribe_method = unsubscribe_method
		self._recipients = recipients
		self._cc = cc
		self._bcc = bcc
		self._send_after = send_after
		self._sender = sender
		self._text_content = text_content
		self._message = message
		self._add_unsubscribe_link = add_unsubscribe_link
		self._attachments = attachments
		self._email_account = None

		self.unsubscribe_params = unsubscribe_params
		self.subject = subject
		self.reference_doctype = reference_doctype
		self.reference_name = reference_name
		self.expose_recipients = expose_recipients
		self.reply_to = reply_to
		self.message_id = message_id
		self.in_reply_to = in_reply_to
		self.send_priority = send_priority
		self.communication = communication
		self.read_receipt = read_receipt
		self.queue_separately = queue_separately
		self.is_notification = is_notification
		self.email_read_tracker_url = email_read_tracker_url
		self.x_priority = x_priority
		self.email_headers = email_headers or {}

	@property
	def unsubscribe_method(self):
		return self._unsubscribe_method or "/api/method/frappe.email.queue.unsubscribe"

	def _get_emails_list(self, emails=None):
		emails = split_emails(emails) if isinstance(emails, str) else (emails or [])
		# de-duplicated (v15 uses a set, so the order is not kept)
		return [each for each in set(emails) if each]

	@property
	def recipients(self):
		return self._get_emails_list(self._recipients)

	@property
	def cc(self):
		return self._get_emails_list(self._cc)

	@property
	def bcc(self):
		return self._get_emails_list(self._bcc)

	@property
	def send_after(self):
		# an int is a number of days from today
		if isinstance(self._send_after, int):
			return add_days(nowdate(), self._send_after)
		return self._send_after

	def get_outgoing_email_account(self):
		if not self._email_account:
			self._email_account = get_outgoing_email_account(self._sender)
		return self._email_account

	@property
	def sender(self):
		if not self._sender or self._sender == "Administrator":
			account = self.get_outgoing_email_account()
			if not account.name:
				return account.email_id
			return email.utils.formataddr((account.name, account.email_id))
		return self._sender

	def get_unsubscribed_user_emails(self):
		"""Recipients and cc with an Email Unsubscribe row: global, or for this reference document (v15)."""
		if getattr(self, "_unsubscribed_user_emails", None) is not None:
			return self._unsubscribed_user_emails
		all_ids = list(set(self.recipients + self.cc))
		unsubscribed = []
		if all_ids and frappe.db.table_exists("Email Unsubscribe"):
			unsubscribed = frappe.db.sql_list(
				f"""select distinct `email` from `tabEmail Unsubscribe`
				where `email` in ({", ".join(["%s"] * len(all_ids))})
				and ((`reference_doctype` = %s and `reference_name` = %s) or `global_unsubscribe` = 1)""",
				(*all_ids, self.reference_doctype, self.reference_name),
			)
		self._unsubscribed_user_emails = unsubscribed or []
		return self._unsubscribed_user_emails

	def final_recipients(self):
		unsubscribed_emails = self.get_unsubscribed_user_emails()
		return [mail_id for mail_id in self.recipients if mail_id not in unsubscribed_emails]

	def final_cc(self):
		unsubscribed_emails = self.get_unsubscribed_user_emails()
		return [mail_id for mail_id in self.cc if mail_id not in unsubscribed_emails]

	def get_attachments(self):
		# stored by reference (file id / url / print format), as v15 does
		attachments = []
		for att in self._attachments or []:
			if att.get("fid") or att.get("file_url") or att.get("print_format_attachment") == 1:
				attachments.append(att)
		return attachments

	def prepare_email_content(self):
		"""The MIME message v15 stores: mixed > alternative > text/plain + text/html"""
		sender = self.sender
		validate_email_address(sender, throw=True)
		# v15 keeps the bare address of Reply-To
		reply_to = validate_email_address((self.reply_to or sender).strip(), throw=True)
		for addr in self.final_recipients() + self.final_cc() + self.bcc:
			if addr not in STANDARD_USERS:
				validate_email_address(addr, throw=True)

		html = self._message or ""
		text = self._text_content or strip_html_tags(html)

		msg_root = MIMEMultipart("mixed", policy=policy.SMTP)
		msg_alternative = MIMEMultipart("alternative", policy=policy.SMTP)
		msg_root.attach(msg_alternative)
		msg_alternative.attach(MIMEText(text, "plain", "utf-8", policy=policy.SMTP))
		msg_alternative.attach(MIMEText(html, "html", "utf-8", policy=policy.SMTP))

		message_id = (
			f"<{self.message_id}>" if self.message_id else email.utils.make_msgid(domain=frappe.local.site)
		)
		to_header = (
			", ".join(self.final_recipients()) if self.expose_recipients == "header" else "<!--recipient-->"
		)
		headers = {
			"X-Original-From": sender,
			"Message-Id": message_id,
			"isnotification": "<notification>" if (self.is_notification or not self.message_id) else None,
			"Disposition-Notification-To": sender if self.read_receipt else None,
			"In-Reply-To": self.in_reply_to,
			"Subject": (self.subject or "").strip(),
			"From": sender,
			"To": to_header,
			"Date": email.utils.formatdate(),
			"Reply-To": reply_to,
			"CC": ", ".join(self.final_cc())
			if self.final_cc() and self.expose_recipients == "header"
			else None,
			"X-Frappe-Site": get_url(),
			"X-Priority": str(self.x_priority) if self.x_priority else None,
			**self.email_headers,
		}
		for key, value in headers.items():
			if value:
				msg_root[key] = str(value).replace("\n", " ").replace("\r", " ")
		return msg_root, sender, message_id

	def process(self, send_now=False) -> EmailQueue | None:
		"""Create the Email Queue row(s); [] when there is nobody to send to"""
		final_recipients = self.final_recipients()
		queue_separately = (final_recipients and self.queue_separately) or len(final_recipients) > 100
		if not (final_recipients + self.final_cc()):
			return []

		queue_data = self.as_dict(include_recipients=False)
		if not queue_data:
			return []

		if not queue_separately:
			recipients = list(set(final_recipients + self.final_cc() + self.bcc))
			q = EmailQueue.new({**queue_data, **{"recipients": recipients}}, ignore_permissions=True)
			send_now and q.send()
			return q

		# one row per recipient (v15 does this in a long-queue job, or inline in tests / now)
		for r in final_recipients:
			recipients = list(set([r, *self.final_cc(), *self.bcc]))
			EmailQueue.new({**queue_data, **{"recipients": recipients}}, ignore_permissions=True)

	def as_dict(self, include_recipients=True):
		account = self.get_outgoing_email_account()
		try:
			mail, sender, message_id = self.prepare_email_content()
			mail_to_string = cstr(mail.as_string(policy=policy.SMTP))
		except frappe.InvalidEmailAddressError:
			# bad address: log it and queue nothing, as v15
			frappe.log_error(
				title="Invalid email address",
				message="Invalid email address Sender: {}, Recipients: {}, \nTraceback: {} ".format(
					self._sender, ", ".join(self.final_recipients()), frappe.get_traceback()
				),
				reference_doctype=self.reference_doctype,
				reference_name=self.reference_name,
			)
			return

		d = {
			"priority": self.send_priority,
			"attachments": json.dumps(self.get_attachments()),
			"message_id": message_id.strip("<>"),
			"message": mail_to_string,
			"sender": sender,
			"reference_doctype": self.reference_doctype,
			"reference_name": self.reference_name,
			"add_unsubscribe_link": self._add_unsubscribe_link,
			"unsubscribe_method": self.unsubscribe_method,
			"unsubscribe_params": self.unsubscribe_params,
			"expose_recipients": self.expose_recipients,
			"communication": self.communication,
			"send_after": self.send_after,
			"show_as_cc": ",".join(self.final_cc()),
			"show_as_bcc": ",".join(self.bcc),
			"email_account": account.name if account.get("exists_in_db") else None,
			"email_read_tracker_url": self.email_read_tracker_url,
		}

		if include_recipients:
			d["recipients"] = self.final_recipients()

		return d
