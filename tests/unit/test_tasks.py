from smlift.asl.tasks import TaskRegistry


def handler(request):
    return {"ok": True}


def test_regional_arn_resolves_to_region_less_pattern():
    registry = TaskRegistry()
    registry.register("arn:aws:states:::sagemaker:createProcessingJob.sync", handler)
    assert registry.resolve("arn:aws:states:::sagemaker:createProcessingJob.sync") is handler
    assert registry.resolve("arn:aws:states:eu-west-1:123456789012:sagemaker:createProcessingJob.sync") is handler
    assert registry.resolve("arn:aws:states:::sagemaker:createProcessingJob") is None


def test_unknown_resource_message_lists_what_is_supported():
    registry = TaskRegistry()
    registry.register("arn:aws:states:::sagemaker:createProcessingJob", handler)
    message = registry.check("arn:aws:lambda:us-east-1:1:function:f")
    assert "no local handler" in message and "createProcessingJob" in message
    assert registry.check("arn:aws:states:::sagemaker:createProcessingJob") is None
