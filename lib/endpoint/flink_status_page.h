// The applications on tributary-server's status page (status_page.h): a
// table of every application on GET /ui, and one application's page,
//
//   GET /ui/applications/<name>   status, version, runtime, processor, job
//                                 state, restarts (count and causes), the
//                                 fault on purpose, snapshots, operations
//                                 and versions
//
// (the URL CreateApplicationPresignedUrl answers). Reads only through the
// ApplicationManager's public reads, which never wait for a round.
#ifndef TRIBUTARY_LIB_ENDPOINT_FLINK_STATUS_PAGE_H_
#define TRIBUTARY_LIB_ENDPOINT_FLINK_STATUS_PAGE_H_

#include <string>
#include <string_view>

#include "absl/time/time.h"
#include "endpoint/endpoint.h"
#include "tributary/application.h"

namespace tributary::endpoint {

inline constexpr std::string_view kApplicationsPagePrefix = "/ui/applications/";

// The overview's section: one row per application, linking to its page.
std::string ApplicationsSection(ApplicationManager& applications);

// GET /ui/applications/<name> (`name` URL-decoded): 200 HTML, or 404.
Response ApplicationPage(ApplicationManager& applications, std::string_view name,
                         std::string_view style);

}  // namespace tributary::endpoint

#endif  // TRIBUTARY_LIB_ENDPOINT_FLINK_STATUS_PAGE_H_
