"""What `sm-docker build .` (sagemaker-studio-image-build 0.6.0) creates, by name.

The Studio route builds with AWS's own CLI, not with smlift, so the image-build role in `iam/`
must cover the names that CLI makes. They are read from its source (PyPI sdist 0.6.0, package
`sagemaker_studio_image_build`):

    codebuild.py, TempCodeBuildProject.__init__
      CodeBuild project   in Studio: sagemaker-studio-<DomainId>-<UserProfileName>-<16 letters>
                          elsewhere: sagemaker-studio-image-build-<16 letters>
                          (DomainId and UserProfileName from /opt/ml/metadata/resource-metadata.json)
      ECR repository      --repository NAME:TAG, else
                          in Studio: sagemaker-studio-<DomainId>, tag <UserProfileName>
                          elsewhere: sagemaker-studio, tag latest
                          (created by _create_repo_if_required when missing)
    builder.py, upload_zip_file
      build context       s3://<--bucket, else the SageMaker SDK default bucket
                          sagemaker-<region>-<account>>/codebuild-sagemaker-container-<16 letters>.zip
    data/buildspec.template.yml
      docker build -t $IMAGE_REPO_NAME:$IMAGE_TAG <every argument sm-docker did not parse itself>
      (so `sm-docker build . --file F --build-arg K=V` reaches `docker build` unchanged)

The project sets no logsConfig, so CodeBuild logs to its default group `/aws/codebuild/<project>`.
Both project forms start with `sagemaker-studio-`; the 16 letters are random, so a policy can only
name them with a wildcard. `example_names` gives concrete names of both forms, as sm-docker would
make them, for `smlift validate` to test the policy against.
"""

from __future__ import annotations

from dataclasses import dataclass

VERSION = "0.6.0"
PROJECT_PREFIX = "sagemaker-studio-"                    # both project forms
STANDALONE_PROJECT_PREFIX = "sagemaker-studio-image-build-"
CONTEXT_KEY_PREFIX = "codebuild-sagemaker-container-"   # at the root of the bucket
STANDALONE_REPOSITORY = "sagemaker-studio"
STUDIO_REPOSITORY_PREFIX = "sagemaker-studio-"          # + the Studio domain id
LOG_GROUP_PREFIX = "/aws/codebuild/"                    # CodeBuild's default group: + project
_RANDOM = "AbCdEfGhIjKlMnOp"                            # stands for the 16 random letters


@dataclass(frozen=True)
class SmDockerNames:
    """The names one `sm-docker build .` run uses, and the patterns that cover every run
    (the names hold random letters and a domain id)."""

    where: str          # "in Studio" or "outside Studio"
    project: str
    repository: str
    context_key: str
    project_pattern: str = PROJECT_PREFIX + "*"
    repository_pattern: str = STUDIO_REPOSITORY_PREFIX + "*"
    context_pattern: str = CONTEXT_KEY_PREFIX + "*"

    @property
    def log_group(self) -> str:
        return LOG_GROUP_PREFIX + self.project


def example_names(domain_id: str = "d-abcdefghijkl",
                  user_profile: str = "data-scientist") -> tuple[SmDockerNames, SmDockerNames]:
    """Names of both forms, as sm-docker makes them without --repository."""
    key = f"{CONTEXT_KEY_PREFIX}{_RANDOM}.zip"
    studio = SmDockerNames("in Studio", f"{PROJECT_PREFIX}{domain_id}-{user_profile}-{_RANDOM}",
                           f"{STUDIO_REPOSITORY_PREFIX}{domain_id}", key)
    standalone = SmDockerNames("outside Studio", f"{STANDALONE_PROJECT_PREFIX}{_RANDOM}",
                               STANDALONE_REPOSITORY, key,
                               repository_pattern=STANDALONE_REPOSITORY)
    return studio, standalone
