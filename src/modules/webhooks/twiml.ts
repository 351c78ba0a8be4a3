/** Empty TwiML: "received, no reply" (MessagingResponse().toString()). */
export const EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>';
