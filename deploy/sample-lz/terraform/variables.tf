variable "org_id" {
  description = "Google Cloud organization id"
  type        = string
}

variable "billing_account" {
  description = "Billing account for the Landing Zone projects"
  type        = string
}

variable "default_region" {
  description = "Region for shared resources (must be in pmo.yaml allowed_regions)"
  type        = string
  default     = "europe-west1"
}
