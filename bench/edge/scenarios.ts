/**
 * The SIPp scenarios both proxies are raced with. A call is INVITE → (100) → 180 → 200 → ACK → BYE → 200:
 * two transactions through the proxy plus the 2xx ACK, which follows the route set the proxy recorded
 * (RFC 3261 §12.1.2, §16.12: both proxies record-route, so ACK and BYE come back through them). A call
 * that gets any other message, or none within -recv_timeout, fails.
 */

/** How long the UAS answers retransmitted BYEs: the proxy's Timer E fires at 0.5 s and 1.5 s (§17.1.2.2). */
const BYE_LINGER_MS = 2000;

/** Headers of the UAS's 180 and 200 to the INVITE (the To tag makes them one dialog, §12.1.1). */
const RESPONSE_HEADERS = `      [last_Via:]
      [last_Record-Route:]
      [last_From:]
      [last_To:];tag=[pid]-[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:bob@[local_ip]:[local_port];transport=[transport]>
      Content-Length: 0
`;

/** UAC, over TCP into stunnel (which adds TLS and the client certificate). */
export const UAC_SCENARIO = `<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="siptrust edge bench UAC">
  <send start_rtd="true">
    <![CDATA[

      INVITE sip:bob@edge.example SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:alice@partner.example>;tag=[pid]-[call_number]
      To: <sip:bob@edge.example>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: <sip:alice@[local_ip]:[local_port];transport=[transport]>
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  <recv response="100" optional="true" />
  <recv response="180" optional="true" />
  <recv response="200" rrs="true" rtd="true" />
  <send>
    <![CDATA[

      ACK [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:alice@partner.example>;tag=[pid]-[call_number]
      [last_To:]
      Call-ID: [call_id]
      CSeq: 1 ACK
      [routes]
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  <send>
    <![CDATA[

      BYE [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:alice@partner.example>;tag=[pid]-[call_number]
      [last_To:]
      Call-ID: [call_id]
      CSeq: 2 BYE
      [routes]
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  <recv response="200" />
</scenario>
`;

/**
 * UAS, over UDP behind the proxy: 180, then 200 (retransmitted until the ACK, RFC 3261 §13.3.1.4), then 200
 * to the BYE. A retransmitted INVITE (the proxy's Timer A, when a response was lost in a UDP receive
 * buffer) gets the 200 again, as an RFC 3261 §17.2.1 server transaction would answer it, instead of SIPp's
 * default of aborting the call on an unexpected message: a lost datagram costs time, not the call. Likewise
 * a retransmitted BYE within BYE_LINGER_MS gets its 200 again (§17.2.2: the server transaction stays
 * Completed for Timer J); SIPp's ended calls would ignore it.
 */
export const UAS_SCENARIO = `<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="siptrust edge bench UAS">
  <recv request="INVITE" />
  <send>
    <![CDATA[

      SIP/2.0 180 Ringing
${RESPONSE_HEADERS}
    ]]>
  </send>
  <label id="1" />
  <send retrans="500">
    <![CDATA[

      SIP/2.0 200 OK
${RESPONSE_HEADERS}
    ]]>
  </send>
  <recv request="INVITE" optional="true" next="1" />
  <recv request="ACK" />
  <recv request="BYE" />
  <label id="2" />
  <send>
    <![CDATA[

      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]>
  </send>
  <recv request="BYE" optional="false" timeout="${BYE_LINGER_MS}" ontimeout="3" next="2" />
  <label id="3" />
</scenario>
`;
