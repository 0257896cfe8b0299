-- CreateIndex
CREATE INDEX "event_created_at_idx" ON "event"("created_at");
