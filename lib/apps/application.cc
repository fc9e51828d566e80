// The public ApplicationManager: forwards to apps::ManagerImpl.
#include "tributary/application.h"

#include "apps/manager.h"
#include "util/status_macros.h"

namespace tributary {

ApplicationManager::ApplicationManager(std::unique_ptr<apps::ManagerImpl> impl)
    : impl_(std::move(impl)) {}
ApplicationManager::~ApplicationManager() = default;

absl::StatusOr<std::unique_ptr<ApplicationManager>> ApplicationManager::Open(
    Store* store, const ApplicationManagerOptions& options) {
  if (store == nullptr) return InvalidArgumentError("ApplicationManager::Open: store is null");
  TRIBUTARY_ASSIGN_OR_RETURN(std::unique_ptr<apps::ManagerImpl> impl,
                             apps::ManagerImpl::Open(store, options));
  return std::unique_ptr<ApplicationManager>(new ApplicationManager(std::move(impl)));
}

absl::Status ApplicationManager::RegisterProcessor(std::string_view name,
                                                   std::string_view code_version,
                                                   ProcessorFactory factory) {
  return impl_->RegisterProcessor(name, code_version, std::move(factory));
}
std::vector<ProcessorInfo> ApplicationManager::RegisteredProcessors() {
  return impl_->RegisteredProcessors();
}
absl::StatusOr<ApplicationDetail> ApplicationManager::CreateApplication(
    std::string_view name, const ApplicationConfiguration& config,
    const std::map<std::string, std::string>& tags) {
  return impl_->CreateApplication(name, config, tags);
}
absl::Status ApplicationManager::DeleteApplication(std::string_view name,
                                                   std::optional<absl::Time> create_timestamp) {
  return impl_->DeleteApplication(name, create_timestamp);
}
absl::StatusOr<ApplicationDetail> ApplicationManager::DescribeApplication(std::string_view name) {
  return impl_->DescribeApplication(name);
}
std::vector<ApplicationSummary> ApplicationManager::ListApplications() {
  return impl_->ListApplications();
}
absl::StatusOr<OperationResult> ApplicationManager::StartApplication(std::string_view name,
                                                                     const RunConfiguration& run) {
  return impl_->StartApplication(name, run);
}
absl::StatusOr<OperationResult> ApplicationManager::StopApplication(std::string_view name,
                                                                    bool force) {
  return impl_->StopApplication(name, force);
}
absl::StatusOr<OperationResult> ApplicationManager::UpdateApplication(
    const UpdateApplicationRequest& request) {
  return impl_->UpdateApplication(request);
}
absl::StatusOr<OperationResult> ApplicationManager::ScaleApplication(
    std::string_view name, int64_t current_application_version_id, int parallelism) {
  return impl_->ScaleApplication(name, current_application_version_id, parallelism);
}
absl::StatusOr<OperationResult> ApplicationManager::RollbackApplication(
    std::string_view name, int64_t current_application_version_id) {
  return impl_->RollbackApplication(name, current_application_version_id);
}
absl::StatusOr<ListApplicationVersionsResult> ApplicationManager::ListApplicationVersions(
    // NOLINTNEXTLINE(performance-unnecessary-value-param): the public API's signature
    std::string_view name, std::optional<int> limit, std::optional<std::string> next_token) {
  return impl_->ListApplicationVersions(name, limit, next_token);
}
absl::StatusOr<ApplicationVersionDetail> ApplicationManager::DescribeApplicationVersion(
    std::string_view name, int64_t version_id) {
  return impl_->DescribeApplicationVersion(name, version_id);
}
absl::Status ApplicationManager::CreateApplicationSnapshot(std::string_view name,
                                                           std::string_view snapshot_name) {
  return impl_->CreateApplicationSnapshot(name, snapshot_name);
}
absl::StatusOr<ListApplicationSnapshotsResult> ApplicationManager::ListApplicationSnapshots(
    // NOLINTNEXTLINE(performance-unnecessary-value-param): the public API's signature
    std::string_view name, std::optional<int> limit, std::optional<std::string> next_token) {
  return impl_->ListApplicationSnapshots(name, limit, next_token);
}
absl::StatusOr<SnapshotDetails> ApplicationManager::DescribeApplicationSnapshot(
    std::string_view name, std::string_view snapshot_name) {
  return impl_->DescribeApplicationSnapshot(name, snapshot_name);
}
absl::Status ApplicationManager::DeleteApplicationSnapshot(
    std::string_view name, std::string_view snapshot_name,
    std::optional<absl::Time> creation_timestamp) {
  return impl_->DeleteApplicationSnapshot(name, snapshot_name, creation_timestamp);
}
absl::StatusOr<ListApplicationOperationsResult> ApplicationManager::ListApplicationOperations(
    const ListApplicationOperationsRequest& request) {
  return impl_->ListApplicationOperations(request);
}
absl::StatusOr<ApplicationOperationInfoDetails> ApplicationManager::DescribeApplicationOperation(
    std::string_view name, std::string_view operation_id) {
  return impl_->DescribeApplicationOperation(name, operation_id);
}
absl::Status ApplicationManager::TagResource(std::string_view resource_arn,
                                             const std::map<std::string, std::string>& tags) {
  return impl_->TagResource(resource_arn, tags);
}
absl::Status ApplicationManager::UntagResource(std::string_view resource_arn,
                                               const std::vector<std::string>& keys) {
  return impl_->UntagResource(resource_arn, keys);
}
absl::StatusOr<std::map<std::string, std::string>> ApplicationManager::ListTagsForResource(
    std::string_view resource_arn) {
  return impl_->ListTagsForResource(resource_arn);
}
absl::StatusOr<MaintenanceConfiguration>
ApplicationManager::UpdateApplicationMaintenanceConfiguration(std::string_view name,
                                                              std::string_view window_start) {
  return impl_->UpdateApplicationMaintenanceConfiguration(name, window_start);
}
absl::Status ApplicationManager::SetJobFault(std::string_view name, std::optional<JobFault> fault) {
  return impl_->SetJobFault(name, fault);
}

absl::Status ApplicationManager::DeleteAllApplications() { return impl_->DeleteAllApplications(); }
absl::Status ApplicationManager::Pump() { return impl_->Pump(); }
void ApplicationManager::StartRunner(absl::Duration interval) { impl_->StartRunner(interval); }
void ApplicationManager::StopRunner() { impl_->StopRunner(); }

}  // namespace tributary
