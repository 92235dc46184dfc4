// The webcam: start a preview in a <video>, grab the current frame as a JPEG blob.
"use strict";

(function () {
  const CAMERA_ERRORS = {
    NotAllowedError: _("The camera is blocked. Allow camera access for this site, then try again."),
    NotFoundError: _("No camera found on this device."),
    NotReadableError: _("The camera is in use by another application."),
  };

  async function start(video) {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      throw new Error(_("This browser cannot use the camera here (it needs https or localhost)."));
    }
    try {
      const stream = await navigator.mediaDevices.getUserMedia({
        video: { facingMode: "user", width: { ideal: 640 }, height: { ideal: 480 } },
        audio: false,
      });
      video.srcObject = stream;
      video.hidden = false;
      await video.play();
      return stream;
    } catch (error) {
      throw new Error(CAMERA_ERRORS[error.name] || _("The camera could not start ({reason}).", { reason: error.message }));
    }
  }

  function stop(video) {
    const stream = video.srcObject;
    if (stream) for (const track of stream.getTracks()) track.stop();
    video.srcObject = null;
  }

  function ready(video) {
    return video.readyState >= 2 && video.videoWidth > 0;
  }

  function capture(video, quality = 0.85) {
    const canvas = document.createElement("canvas");
    canvas.width = video.videoWidth;
    canvas.height = video.videoHeight;
    canvas.getContext("2d").drawImage(video, 0, 0);
    return new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", quality));
  }

  // The current frame as a small grey thumbnail (Uint8Array, row by row): cheap to compare.
  let thumbnailCanvas = null;
  function thumbnail(video, width, height) {
    if (!thumbnailCanvas) thumbnailCanvas = document.createElement("canvas");
    thumbnailCanvas.width = width;
    thumbnailCanvas.height = height;
    const context = thumbnailCanvas.getContext("2d", { willReadFrequently: true });
    context.imageSmoothingQuality = "high"; // averages the pixels away: sensor noise mostly cancels
    context.drawImage(video, 0, 0, width, height);
    const rgba = context.getImageData(0, 0, width, height).data;
    const grey = new Uint8Array(width * height);
    for (let i = 0; i < grey.length; i++) {
      grey[i] = (rgba[4 * i] * 299 + rgba[4 * i + 1] * 587 + rgba[4 * i + 2] * 114) / 1000;
    }
    return grey;
  }

  window.VisageCamera = { start, stop, ready, capture, thumbnail };
})();
