# Packer template (HCL2, amazon-ebs): bakes trailwatch into an AMI with packaging/image/provision.sh,
# the same script the Image Builder component, the cloud-init example and tests/vm/boot-test.sh run.
#
#   packer init packaging/image && packer build \
#     -var region=us-east-1 -var trailwatch_config=ssm:/fleet/trailwatch packaging/image/trailwatch.pkr.hcl
#
# The package comes from the trailwatch apt repository (apt_repo_url + apt_keyring, a local file copied
# to the instance), or from a local .deb (deb_file) when apt_repo_url is empty.

packer {
  required_plugins {
    amazon = {
      source  = "github.com/hashicorp/amazon"
      version = ">= 1.2.0"
    }
  }
}

variable "region" {
  type    = string
  default = "us-east-1"
}

variable "arch" {
  type        = string
  default     = "x86_64"
  description = "x86_64 or arm64 (Graviton)"
  validation {
    condition     = contains(["x86_64", "arm64"], var.arch)
    error_message = "The arch must be x86_64 or arm64."
  }
}

variable "instance_type" {
  type    = string
  default = ""
}

variable "apt_repo_url" {
  type    = string
  default = ""
}

variable "apt_keyring" {
  type    = string
  default = "trailwatch-archive-keyring.gpg"
}

variable "deb_file" {
  type    = string
  default = ""
}

variable "trailwatch_config" {
  type        = string
  default     = "trailwatch.yaml"
  description = "a local YAML file copied to the instance, or ssm:NAME (fetched by the agent at boot)"
}

locals {
  timestamp     = regex_replace(timestamp(), "[- TZ:]", "")
  instance_type = var.instance_type != "" ? var.instance_type : (var.arch == "arm64" ? "t4g.small" : "t3.small")
  deb_arch      = var.arch == "arm64" ? "arm64" : "amd64"
  config_is_ssm = startswith(var.trailwatch_config, "ssm:")
  install_args  = var.apt_repo_url != "" ? "--apt-repo ${var.apt_repo_url} --apt-keyring /tmp/trailwatch-keyring" : "--deb /tmp/trailwatch.deb"
  config_arg    = local.config_is_ssm ? var.trailwatch_config : "/tmp/trailwatch.yaml"
}

source "amazon-ebs" "debian12" {
  region        = var.region
  instance_type = local.instance_type
  ssh_username  = "admin"
  ami_name      = "trailwatch-debian12-${var.arch}-${local.timestamp}"
  source_ami_filter {
    filters = {
      name                = "debian-12-${local.deb_arch}-*"
      architecture        = var.arch
      root-device-type    = "ebs"
      virtualization-type = "hvm"
    }
    owners      = ["136693071363"] # Debian
    most_recent = true
  }
  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
  }
  tags = {
    Name       = "trailwatch-debian12-${var.arch}"
    trailwatch = "baked"
  }
}

build {
  sources = ["source.amazon-ebs.debian12"]

  provisioner "file" {
    source      = "${path.root}/provision.sh"
    destination = "/tmp/provision.sh"
  }

  # Exactly one of the keyring and the .deb is used; the other upload is a harmless placeholder.
  provisioner "file" {
    source      = var.apt_repo_url != "" ? var.apt_keyring : var.deb_file
    destination = var.apt_repo_url != "" ? "/tmp/trailwatch-keyring" : "/tmp/trailwatch.deb"
  }

  provisioner "file" {
    content     = local.config_is_ssm ? "" : file(var.trailwatch_config)
    destination = "/tmp/trailwatch.yaml"
  }

  # Installs, configures and enables trailwatch, then prepare-image clears instance-specific state
  # (checkpoints, spools, cached identity and credentials) and /etc/machine-id is emptied.
  provisioner "shell" {
    inline = [
      "sudo bash /tmp/provision.sh ${local.install_args} --config ${local.config_arg} --image",
      "sudo rm -f /tmp/provision.sh /tmp/trailwatch.deb /tmp/trailwatch-keyring /tmp/trailwatch.yaml",
    ]
  }
}
