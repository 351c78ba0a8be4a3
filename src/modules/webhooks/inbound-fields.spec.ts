import { optOutKeyword, parseInbound } from './inbound-fields';

describe('optOutKeyword', () => {
  it.each([
    ['STOP', true],
    ['stop', true],
    [' Stop ', true],
    ['STOPALL', true],
    ['UNSUBSCRIBE', true],
    ['CANCEL', true],
    ['END', true],
    ['QUIT', true],
    ['START', false],
    ['unstop', false],
    ['please stop', undefined],
    ['STOP!', undefined],
    ['', undefined],
    [null, undefined],
  ])('%p → %p', (body, expected) => {
    expect(optOutKeyword(body)).toBe(expected);
  });
});

describe('parseInbound', () => {
  it('should read Twilio WhatsApp inbound fields, media and buttons', () => {
    const parsed = parseInbound(
      {
        MessageSid: 'MM1',
        From: 'whatsapp:+14155550100',
        To: 'whatsapp:+14155238886',
        Body: 'Olá',
        NumMedia: '2',
        MediaUrl0: 'https://api.twilio.com/m0',
        MediaContentType0: 'image/jpeg',
        MediaUrl1: 'https://api.twilio.com/m1',
        ProfileName: 'Ana',
        WaId: '14155550100',
        ButtonPayload: 'confirm',
      },
      'tok',
    );
    expect(parsed).toMatchObject({
      twilioSid: 'MM1',
      phone: '+14155550100',
      body: 'Olá',
      mediaUrls: ['https://api.twilio.com/m0', 'https://api.twilio.com/m1'],
      metadata: {
        profileName: 'Ana',
        waId: '14155550100',
        mediaContentTypes: ['image/jpeg', 'application/octet-stream'],
        buttonPayload: 'confirm',
      },
      optOut: undefined,
      idempotencyToken: 'tok',
    });
  });

  it.each([
    { From: 'whatsapp:+1', To: 'x' },
    { MessageSid: 'SM1', To: 'x' },
    { MessageSid: 'SM1', From: 'x' },
  ])('should refuse %p (a required field is missing)', (fields) => {
    expect(parseInbound(fields, null)).toBeNull();
  });

  it('should bound NumMedia', () => {
    const parsed = parseInbound(
      { MessageSid: 'SM1', From: 'a', To: 'b', NumMedia: '9999', MediaUrl0: 'u' },
      null,
    );
    expect(parsed?.mediaUrls).toEqual(['u']);
  });
});
