variable "name" { type = string }
variable "org_id" { type = string }
variable "billing_account" { type = string }
variable "labels" { type = map(string) }

resource "google_project" "this" {
  name            = var.name
  project_id      = var.name
  org_id          = var.org_id
  billing_account = var.billing_account
  labels          = var.labels
}

output "project_id" {
  value = google_project.this.project_id
}
