#include "endpoint/flink_status_page.h"

#include <fmt/format.h>

#include <cctype>
#include <string>
#include <vector>

#include "tributary/status.h"

namespace tributary::endpoint {
namespace {

std::string Esc(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string Url(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '_' || c == '.' || c == '-') {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

std::string Time(absl::Time t) { return absl::FormatTime("%Y-%m-%d %H:%M:%E3S", t, absl::UTCTimeZone()); }

std::string Badge(std::string_view status) {
  return fmt::format("<span class=\"badge app-{}\">{}</span>", Esc(status), Esc(status));
}

// The restarts of the current version in the persisted history (a job's own
// count starts over after a restart of the server).
int VersionRestarts(const ApplicationDetail& d) {
  int n = 0;
  for (const RestartEvent& e : d.recent_restarts) n += e.application_version_id == d.application_version_id;
  return n;
}

std::string Processor(const ApplicationConfiguration& c) {
  return fmt::format("{} {} ({})", c.processor_name, c.code_version,
                     c.code.file_key.empty() ? "registered processor" : c.code.file_key);
}

std::string InputOf(const ApplicationConfiguration& c) {
  if (!c.input_stream.empty()) return c.input_stream;
  auto g = c.property_groups.find(std::string(kInputPropertyGroup));
  if (g == c.property_groups.end()) return "(none)";
  auto it = g->second.find(std::string(kStreamNameKey));
  return it == g->second.end() ? "(none)" : it->second;
}

constexpr std::string_view kAppStyle = R"(
.app-RUNNING { background: #d8f0d8; } .app-READY { background: #e8eef8; }
.app-STARTING, .app-UPDATING, .app-AUTOSCALING, .app-ROLLING_BACK, .app-STOPPING, .app-FORCE_STOPPING { background: #fbeec1; }
.app-DELETING, .app-FAILED, .app-RESTARTING { background: #f6d0cc; } .app-ROLLED_BACK { background: #eeeeee; }
td.wrap { white-space: normal; max-width: 48em; }
)";

}  // namespace

std::string ApplicationsSection(ApplicationManager& applications) {
  std::vector<ApplicationSummary> all = applications.ListApplications();
  std::string out = "<section class=\"applications\" id=\"applications\">\n<h2>Applications</h2>\n";
  if (all.empty()) return out + "<p>No applications yet.</p></section>\n";
  out += "<div class=\"scroll\"><table class=\"apps\">\n<tr><th>application</th><th>status</th><th>version</th>"
         "<th>runtime</th><th>job</th><th>restarts</th><th>last failure</th></tr>\n";
  for (const ApplicationSummary& s : all) {
    absl::StatusOr<ApplicationDetail> d = applications.DescribeApplication(s.application_name);
    if (!d.ok()) continue;  // deleted meanwhile
    out += fmt::format(
        "<tr data-application=\"{0}\"><td><a href=\"/ui/applications/{1}\">{0}</a></td><td>{2}</td>"
        "<td class=\"num\">{3}</td><td>{4}</td><td>{5}</td><td class=\"num\">{6}</td>"
        "<td class=\"wrap\">{7}</td></tr>\n",
        Esc(s.application_name), Url(s.application_name), Badge(ToString(d->application_status)),
        d->application_version_id, Esc(d->configuration.runtime_environment),
        Badge(ToString(d->job.status)), d->job.restart_count, Esc(d->job.last_failure.value_or("")));
  }
  return out + "</table></div></section>\n";
}

Response ApplicationPage(ApplicationManager& applications, std::string_view name,
                         std::string_view style) {
  Response r;
  r.content_type = "text/html; charset=utf-8";
  absl::StatusOr<ApplicationDetail> got = applications.DescribeApplication(name);
  if (!got.ok()) {
    r.status = GetErrorType(got.status()) == ErrorType::kResourceNotFound ? 404 : 500;
    r.body = fmt::format("<!doctype html><title>Not found</title><p>{}</p><p><a href=\"/ui\">/ui</a></p>",
                         Esc(std::string(got.status().message())));
    return r;
  }
  const ApplicationDetail& d = *got;
  const ApplicationConfiguration& c = d.configuration;
  std::string out = "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
                    "<meta http-equiv=\"refresh\" content=\"5\">\n";
  out += fmt::format("<title>{} - Tributary</title>\n<style>{}{}</style></head>\n<body>\n",
                     Esc(d.application_name), style, kAppStyle);
  out += fmt::format("<p class=\"sub\"><a href=\"/ui\">Tributary status</a> &rsaquo; application</p>\n"
                     "<h1 data-application=\"{0}\">{0} {1}</h1>\n",
                     Esc(d.application_name), Badge(ToString(d.application_status)));
  out += "<dl>\n";
  out += fmt::format("<dt>ARN</dt><dd>{}</dd>\n", Esc(d.application_arn));
  out += fmt::format("<dt>version</dt><dd data-version=\"{0}\">{0}</dd>\n", d.application_version_id);
  out += fmt::format("<dt>runtime</dt><dd data-runtime=\"{0}\">{0}</dd>\n", Esc(c.runtime_environment));
  out += fmt::format("<dt>code</dt><dd>{}</dd>\n", Esc(Processor(c)));
  out += fmt::format("<dt>input stream</dt><dd>{}</dd>\n", Esc(InputOf(c)));
  out += fmt::format("<dt>parallelism</dt><dd>{}</dd>\n", c.parallelism);
  out += fmt::format("<dt>snapshots</dt><dd>{}</dd>\n", c.snapshots_enabled ? "enabled" : "disabled");
  out += fmt::format("<dt>system rollback</dt><dd>{}</dd>\n", c.system_rollback_enabled ? "enabled" : "disabled");
  out += fmt::format("<dt>job</dt><dd data-job-status=\"{0}\">{1}</dd>\n", ToString(d.job.status),
                     Badge(ToString(d.job.status)));
  out += fmt::format("<dt>restarts</dt><dd data-restarts=\"{0}\">{0} of this job, {1} of version {2} "
                     "(kept history)</dd>\n",
                     d.job.restart_count, VersionRestarts(d), d.application_version_id);
  out += fmt::format("<dt>last failure</dt><dd class=\"wrap\" data-last-failure>{}{}</dd>\n",
                     Esc(d.job.last_failure.value_or("none")),
                     d.job.last_failure_time ? " (" + Time(*d.job.last_failure_time) + " UTC)" : "");
  if (d.job.next_restart_time) {
    out += fmt::format("<dt>next restart</dt><dd>{} UTC</dd>\n", Time(*d.job.next_restart_time));
  }
  out += fmt::format("<dt>records processed</dt><dd>{} by this job</dd>\n", d.job.records_processed);
  if (d.job.restored_from) out += fmt::format("<dt>restored from</dt><dd>{}</dd>\n", Esc(*d.job.restored_from));
  out += fmt::format("<dt>fault on purpose</dt><dd data-fault=\"{0}\">{0}{1}</dd>\n", ToString(d.job_fault),
                     d.job_fault_override ? " (set by the test control, not the version)" : "");
  out += "</dl>\n";

  absl::StatusOr<ListApplicationSnapshotsResult> snaps = applications.ListApplicationSnapshots(name);
  out += "<h3>Snapshots</h3>\n<table class=\"snapshots\">\n<tr><th>name</th><th>status</th><th>version</th>"
         "<th>runtime</th><th>created</th></tr>\n";
  std::optional<std::string> token;
  while (snaps.ok()) {
    for (const SnapshotDetails& s : snaps->snapshots) {
      out += fmt::format("<tr data-snapshot=\"{0}\"><td>{0}</td><td>{1}</td><td class=\"num\">{2}</td><td>{3}</td>"
                         "<td>{4} UTC</td></tr>\n",
                         Esc(s.snapshot_name), ToString(s.snapshot_status), s.application_version_id,
                         Esc(s.runtime_environment), Time(s.snapshot_creation_timestamp));
    }
    if (!snaps->next_token) break;
    snaps = applications.ListApplicationSnapshots(name, std::nullopt, snaps->next_token);
  }
  out += "</table>\n";

  // Operations, newest first, with their failure details.
  ListApplicationOperationsRequest req;
  req.application_name = std::string(name);
  std::vector<ApplicationOperationInfo> ops;
  while (true) {
    absl::StatusOr<ListApplicationOperationsResult> page = applications.ListApplicationOperations(req);
    if (!page.ok()) break;
    ops.insert(ops.end(), page->operations.begin(), page->operations.end());
    if (!page->next_token) break;
    req.next_token = page->next_token;
  }
  out += "<h3>Operations</h3>\n<div class=\"scroll\"><table class=\"operations\">\n<tr><th>id</th><th>operation</th>"
         "<th>status</th><th>started</th><th>ended</th><th>details</th></tr>\n";
  for (auto it = ops.rbegin(); it != ops.rend(); ++it) {
    absl::StatusOr<ApplicationOperationInfoDetails> od =
        applications.DescribeApplicationOperation(name, it->operation_id);
    std::string details;
    if (od.ok()) {
      if (od->application_version_change_details) {
        details += fmt::format("version {} &rarr; {}. ", od->application_version_change_details->application_version_updated_from,
                               od->application_version_change_details->application_version_updated_to);
      }
      if (od->reason) details += Esc(*od->reason) + ". ";
      if (od->operation_failure_details) {
        details += "<span class=\"error\">" + Esc(od->operation_failure_details->error_string) + "</span>";
        if (od->operation_failure_details->rollback_operation_id) {
          details += " (rolled back by " + Esc(*od->operation_failure_details->rollback_operation_id) + ")";
        }
      }
    }
    out += fmt::format("<tr data-operation=\"{0}\"><td>{0}</td><td>{1}</td><td>{2}</td><td>{3}</td><td>{4}</td>"
                       "<td class=\"wrap\">{5}</td></tr>\n",
                       Esc(it->operation_id), ToString(it->operation), ToString(it->operation_status),
                       Time(it->start_time), it->end_time ? Time(*it->end_time) : "", details);
  }
  out += "</table></div>\n";

  absl::StatusOr<ListApplicationVersionsResult> versions = applications.ListApplicationVersions(name);
  if (versions.ok()) {
    out += "<h3>Versions</h3>\n<table class=\"versions\">\n<tr><th>version</th><th>status</th><th>runtime</th>"
           "<th>code</th></tr>\n";
    for (const ApplicationVersionSummary& v : versions->versions) {
      absl::StatusOr<ApplicationVersionDetail> vd =
          applications.DescribeApplicationVersion(name, v.application_version_id);
      out += fmt::format("<tr data-app-version=\"{0}\"><td class=\"num\">{0}</td><td>{1}</td><td>{2}</td><td>{3}</td></tr>\n",
                         v.application_version_id, ToString(v.application_status),
                         vd.ok() ? Esc(vd->configuration.runtime_environment) : "",
                         vd.ok() ? Esc(Processor(vd->configuration)) : "");
    }
    out += "</table>\n";
  }
  out += "</body></html>\n";
  r.body = std::move(out);
  return r;
}

}  // namespace tributary::endpoint
